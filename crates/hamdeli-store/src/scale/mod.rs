//! Aggregates that scale: summary tables kept in the writes' transactions, and their rebuild.
