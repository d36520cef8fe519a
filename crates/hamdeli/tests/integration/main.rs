//! The integration suite: the real app on a free port over a fresh database per test (SQLite,
//! or PostgreSQL when `HAMDELI_TEST_POSTGRES` is set).
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

mod access;
mod accounts;
mod api;
mod campaign_lifecycle;
mod charts;
mod cli;
mod concurrency;
mod distribution;
mod entry;
mod envelope;
mod gaps;
mod household_lists;
mod import_api;
mod ledger;
mod loans;
mod login;
mod market;
mod needs_scope;
mod network;
mod organisations;
mod persons;
mod registry;
mod reports;
mod scale;
mod schema;
mod scope;
mod search;
mod sheets;
mod shell;
mod support;
mod support_api;
mod survey_import;
mod transparency;
