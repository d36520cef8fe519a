//! Money is integer rials; people read tomans (÷10).

/// Rials shown as whole tomans with ASCII digits and a thousands separator; the locale layer
/// turns digits into Persian ones. Rials below a toman are dropped, as offices do.
pub fn tomans_grouped(rials: i64) -> String {
    let tomans = rials / 10;
    let digits = tomans.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if tomans < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_tomans() {
        assert_eq!(tomans_grouped(0), "0");
        assert_eq!(tomans_grouped(10_000_000), "1,000,000");
        assert_eq!(tomans_grouped(-123_456_789), "-12,345,678");
        assert_eq!(tomans_grouped(i64::MIN), "-922,337,203,685,477,580");
    }
}
