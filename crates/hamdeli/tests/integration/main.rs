//! The integration suite: the real app on a free port over a fresh database per test (SQLite,
//! or PostgreSQL when `HAMDELI_TEST_POSTGRES` is set).

mod access;
mod accounts;
mod api;
mod cli;
mod distribution;
mod envelope;
mod ledger;
mod login;
mod persons;
mod registry;
mod scope;
mod schema;
mod sheets;
mod shell;
mod support;
mod transparency;
