//! Capability reports: its rules (pure: no web, no database): reporting periods, data set
//! definitions with validation and outlier warnings, the report's states, and the province
//! need index.

pub mod dataset;
pub mod index;
pub mod period;
pub mod policy;
pub mod state;
