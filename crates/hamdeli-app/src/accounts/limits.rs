//! Sign-in and sign-up limits.
//!
//! Where the count lives: in the database (`hamdeli_store::sessions::reserve_*`), not in a
//! mutex of this process. A mutex-guarded counter is exact only while one process serves the
//! database; two servers on one PostgreSQL database (or a restart) would each grant the full
//! allowance. Every attempt is decided and recorded by one atomic upsert *before* its password
//! is checked, so a parallel burst cannot get more checks than the limit: the store refuses the
//! sixth reservation however many requests run at once.
//!
//! The rules:
//! - **Per address**: at most [`MAX_FAILURES`] attempts per [`WINDOW`] (a fixed window). An
//!   attempt counts when it is admitted; a right password gives its own unit back, so an office
//!   behind one address can sign in all morning, and a success from any other address changes
//!   nothing about an attacker's count.
//! - **Per account** (the typed username, known or unknown alike): the first
//!   [`sessions::ACCOUNT_FREE_FAILURES`] failures are checked at once; after the fifth failure
//!   in a row the next attempt must wait 1 minute, then 2, 4, 8, and then 15 minutes at most
//!   ([`sessions::account_delay_millis`]). An attempt made while waiting is refused without a
//!   password check and does not extend the wait. There is no lock that outlives the wait. A
//!   right password forgets only the failures that came from its own address (so the owner
//!   signing in from elsewhere gives an attacker no fresh attempts); an admin's password reset
//!   forgets them all; failures are forgotten after a day without attempts.
//!
//! What that gives an attacker (measured by `tests/integration/login.rs`,
//! `an_attacker_gets_eleven_checks_in_the_first_hour_and_four_an_hour_after`): a parallel burst
//! of 40 gets 5 password checks; trying without pause after it, 11 checks in the first hour
//! (5 at once, then at 1, 3, 7, 15, 30 and 45 minutes) and 4 an hour after that (one every
//! 15 minutes), from any number of addresses. Distributed over addresses, the per-account
//! wait is what holds; from one address the address window (120 checks an hour spread over
//! many accounts) holds as well.
//!
//! What it still allows: an attacker who keeps trying one account takes the attempt that opens
//! every quarter of an hour, so its owner may have to wait up to 15 minutes for a free attempt
//! (they are told how long; an admin's password reset clears the wait at once).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hamdeli_store::sessions::{self, AccountGate, WindowSlot};
use hamdeli_store::{Result, Store};

/// Attempts per address per window.
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(300);

/// Self-registered donor sign-ups per address per hour.
pub const SIGNUPS_PER_ADDRESS: u32 = 5;
pub const SIGNUP_WINDOW: Duration = Duration::from_secs(3600);

/// Kept in the application state: how many passwords the login handler has checked (argon2
/// verifications, the dummy one for unknown usernames included). Tests and metrics read it;
/// the limits themselves are in the database.
#[derive(Default)]
pub struct LoginLimiter {
    password_checks: AtomicU64,
}

impl LoginLimiter {
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::SeqCst)
    }

    pub fn count_check(&self) {
        self.password_checks.fetch_add(1, Ordering::SeqCst);
        metrics::counter!("hamdeli_login_password_checks_total").increment(1);
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An admitted sign-in attempt: counted for its address and its account, password not yet
/// checked.
#[derive(Debug, Clone)]
pub struct Admitted {
    address: WindowSlot,
    account: String,
    client: String,
}

#[derive(Debug, Clone)]
pub enum LoginGate {
    /// Check the password.
    Check(Admitted),
    /// The address has used its window: refused without a check.
    AddressFull,
    /// The username waits until this instant: refused without a check.
    AccountWaits { until: i64 },
}

/// Decides and records an attempt before its password is checked: first the address (an
/// address over its limit must not use up an account's attempts), then the account.
pub async fn admit_login(
    store: &Store,
    client: &str,
    username: &str,
    now: i64,
) -> Result<LoginGate> {
    let Some(address) = sessions::reserve_window(
        store,
        &format!("login:{client}"),
        i64::from(MAX_FAILURES),
        millis(WINDOW),
        now,
    )
    .await?
    else {
        return Ok(LoginGate::AddressFull);
    };
    let account = sessions::account_subject(username);
    match sessions::reserve_account_attempt(store, &account, client, now).await? {
        AccountGate::Check { .. } => Ok(LoginGate::Check(Admitted {
            address,
            account,
            client: client.to_owned(),
        })),
        AccountGate::Wait { until } => Ok(LoginGate::AccountWaits { until }),
    }
}

/// The password was right: the account forgets the failures that came from this address (not
/// those from elsewhere: a victim signing in does not give an attacker fresh attempts), and this
/// attempt's unit goes back to its address (only its own: the address's other attempts still
/// count).
pub async fn signed_in(store: &Store, admitted: &Admitted) -> Result<()> {
    sessions::forget_failures_from(store, &admitted.account, &admitted.client).await?;
    sessions::refund_window(store, &admitted.address).await
}

/// Counts a donor sign-up for the address; false when it has used its hour.
pub async fn admit_signup(store: &Store, client: &str, now: i64) -> Result<bool> {
    Ok(sessions::reserve_window(
        store,
        &format!("signup:{client}"),
        i64::from(SIGNUPS_PER_ADDRESS),
        millis(SIGNUP_WINDOW),
        now,
    )
    .await?
    .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "hamdeli-ratelimit-{}-{}",
            std::process::id(),
            hamdeli_store::tokens::random_token()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap();
        (store, dir)
    }

    #[tokio::test]
    async fn addresses_and_accounts_are_counted_before_the_check() {
        let (store, dir) = store().await;
        let t0 = 1_000_000_000;
        // Ten attempts from one address on ten names, then the window is full for any name.
        for i in 0..MAX_FAILURES {
            let gate = admit_login(&store, "a", &format!("user{i}"), t0)
                .await
                .unwrap();
            assert!(matches!(gate, LoginGate::Check(_)), "{i}: {gate:?}");
        }
        assert!(matches!(
            admit_login(&store, "a", "other", t0).await.unwrap(),
            LoginGate::AddressFull
        ));
        assert!(matches!(
            admit_login(&store, "b", "other", t0).await.unwrap(),
            LoginGate::Check(_)
        ));
        assert!(matches!(
            admit_login(&store, "a", "other", t0 + millis(WINDOW))
                .await
                .unwrap(),
            LoginGate::Check(_)
        ));

        // Five attempts on one name from five addresses, then it waits a minute.
        for i in 0..5 {
            let gate = admit_login(&store, &format!("c{i}"), "victim", t0)
                .await
                .unwrap();
            assert!(matches!(gate, LoginGate::Check(_)), "{i}: {gate:?}");
        }
        match admit_login(&store, "d", "Victim", t0 + 1).await.unwrap() {
            LoginGate::AccountWaits { until } => assert_eq!(until, t0 + 60_000),
            other => panic!("{other:?}"),
        }
        let LoginGate::Check(ok) = admit_login(&store, "d", "victim", t0 + 60_000)
            .await
            .unwrap()
        else {
            panic!("the minute is over");
        };
        // A success from "d" forgets only the failure that came from "d": the five from the
        // c addresses still count, and the account still waits.
        signed_in(&store, &ok).await.unwrap();
        assert!(matches!(
            admit_login(&store, "e", "victim", t0 + 60_001)
                .await
                .unwrap(),
            LoginGate::AccountWaits { .. }
        ));
        let failures: i64 =
            sqlx::query_scalar("SELECT failures FROM login_accounts WHERE subject = 'victim'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(failures, 5);
        // A success from one of the failing addresses forgets its own failure too.
        let c0 = Admitted {
            address: sessions::reserve_window(&store, "login:c0", 10, 300_000, t0 + 60_002)
                .await
                .unwrap()
                .unwrap(),
            account: "victim".into(),
            client: "c0".into(),
        };
        signed_in(&store, &c0).await.unwrap();
        let failures: i64 =
            sqlx::query_scalar("SELECT failures FROM login_accounts WHERE subject = 'victim'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(failures, 4);

        // Sign-ups: five an hour per address.
        for _ in 0..SIGNUPS_PER_ADDRESS {
            assert!(admit_signup(&store, "s", t0).await.unwrap());
        }
        assert!(!admit_signup(&store, "s", t0 + 1).await.unwrap());
        assert!(admit_signup(&store, "t", t0 + 1).await.unwrap());
        assert!(
            admit_signup(&store, "s", t0 + millis(SIGNUP_WINDOW))
                .await
                .unwrap()
        );
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
