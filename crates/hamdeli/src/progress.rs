//! A one-line progress bar on standard error for long commands.

use std::io::Write;

const WIDTH: usize = 30;

/// `label [#########.....]  45%  450000/1000000`
pub fn line(label: &str, done: u64, total: u64) -> String {
    let fraction = if total == 0 {
        0.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    };
    let filled = (fraction * WIDTH as f64).round() as usize;
    format!(
        "{label:<10} [{}{}] {:>3}%  {done}/{total}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        (fraction * 100.0).round() as u64
    )
}

/// Redraws the bar in place.
pub fn draw(label: &str, done: u64, total: u64) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{}\x1b[K", line(label, done, total));
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_progress_and_never_overflows() {
        assert!(line("x", 0, 10).contains("[..............................]   0%"));
        assert!(line("x", 5, 10).contains("[###############...............]  50%"));
        assert!(line("x", 20, 10).contains("100%"));
        assert!(line("x", 3, 0).contains("  0%"));
    }
}
