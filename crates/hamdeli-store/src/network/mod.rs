//! Capability network: every SQL statement of it, on SQLite and PostgreSQL.
