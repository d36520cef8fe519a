//! Text written to a CSV or a sheet a person will open in a spreadsheet program: a cell that
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a formula (formula
//! injection), so it gets a leading apostrophe. The one guard for every export.

use std::borrow::Cow;

/// `s`, with a leading apostrophe when a spreadsheet would read it as a formula.
pub fn formula_safe(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted_and_others_kept() {
        for s in ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(formula_safe(s), format!("'{s}"));
        }
        for s in ["", "زهرا", "0010350829", "a=b", " =x"] {
            assert!(matches!(formula_safe(s), Cow::Borrowed(_)), "{s}");
        }
    }
}
