//! Capability network: every SQL statement of it, on SQLite and PostgreSQL.

pub mod bench;
pub mod cases;
pub mod codes;
pub mod ngos;
pub mod reports;
pub mod volunteers;
pub mod women;

/// A `LIKE` pattern's special characters escaped (`ESCAPE '\'`).
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
