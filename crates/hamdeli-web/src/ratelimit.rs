//! Login rate limiting per client address (a fixed window of failed attempts), on top of the
//! per-account lockout kept in the database. Successful sign-ins do not count, so a whole
//! office behind one address can sign in in the morning.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct LoginLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    /// False while the address has used up its window of failed attempts.
    pub fn allow(&self, client: &str) -> bool {
        self.allow_at(client, Instant::now())
    }

    pub fn record_failure(&self, client: &str) {
        self.record_failure_at(client, Instant::now())
    }

    fn allow_at(&self, client: &str, now: Instant) -> bool {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.get(client) {
            Some((start, failures)) => {
                now.duration_since(*start) >= WINDOW || *failures < MAX_FAILURES
            }
            None => true,
        }
    }

    fn record_failure_at(&self, client: &str, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(client.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_failures_per_address_and_window() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(l.allow_at("a", t0));
            l.record_failure_at("a", t0);
        }
        assert!(!l.allow_at("a", t0));
        assert!(l.allow_at("b", t0));
        assert!(l.allow_at("a", t0 + WINDOW));
    }
}
