//! Capability reports: every SQL statement of it, on SQLite and PostgreSQL: data sets and their
//! versions, reports with their values, events and reminders, the accepted-values rollup the
//! dashboard reads, the figures of Hamdeli's own data, and the need index's indicators.

pub mod bench;
pub mod datasets;
pub mod entries;
pub mod figures;
pub mod index;

pub use datasets::{DataSet, Level, NewDataSet};
pub use entries::{Completeness, Reminder, Report, ReportEvent, ReportFilter};
