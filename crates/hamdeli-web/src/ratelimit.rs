//! Login rate limiting per client address (a fixed window), on top of the per-account lockout
//! kept in the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_ATTEMPTS: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct LoginLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    /// Counts an attempt; false when the address has used up its window.
    pub fn allow(&self, client: &str) -> bool {
        self.allow_at(client, Instant::now())
    }

    fn allow_at(&self, client: &str, now: Instant) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(client.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= MAX_ATTEMPTS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_window() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..MAX_ATTEMPTS {
            assert!(l.allow_at("a", t0));
        }
        assert!(!l.allow_at("a", t0));
        assert!(l.allow_at("b", t0));
        assert!(l.allow_at("a", t0 + WINDOW));
    }
}
