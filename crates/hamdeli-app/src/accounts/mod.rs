//! One's own account: signing in and out, changing one's password and language. Every attempt
//! is counted by [`limits`] *before* its password is checked, and every outcome is audited here,
//! so the web form, the API and any later client get the same limits and the same trail.

pub mod limits;

use hamdeli_domain::Principal;
use hamdeli_store::audit::{self, Actor, Event};
use hamdeli_store::users::User;
use hamdeli_store::{Store, passwords, sessions, users};
use serde_json::json;

use crate::Result;
use limits::{LoginGate, LoginLimiter};

/// A hash to verify against when the user does not exist, so both paths take as long.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    passwords::hash_password("not a real password").unwrap_or_default()
});

/// At most this many characters of a typed username go into the audit log.
const AUDITED_USERNAME_CHARS: usize = 64;

/// What a sign-in attempt came to.
pub enum SignIn {
    /// A new session: its token goes into the cookie.
    Session { token: String, user: User },
    /// The address has used its window; no password was checked.
    AddressFull,
    /// The account waits this many whole minutes (at least 1); no password was checked.
    AccountWaits { minutes: i64 },
    /// Unknown user, wrong password or inactive account: one answer for all three.
    Refused,
}

/// Whole minutes from `now` until `until`, rounded up and at least 1.
fn minutes_until(until: i64, now: i64) -> i64 {
    ((until - now + 59_999) / 60_000).max(1)
}

/// Signs a user in. An unknown username gets the same counting, the same answer and a dummy
/// argon2 check, so neither the answer nor its timing says whether an account exists.
pub async fn sign_in(
    store: &Store,
    limiter: &LoginLimiter,
    client_addr: &str,
    username: &str,
    password: &str,
    now: i64,
) -> Result<SignIn> {
    let admitted = match limits::admit_login(store, client_addr, username, now).await? {
        LoginGate::Check(admitted) => admitted,
        LoginGate::AddressFull => {
            audit_failed(store, client_addr, username, "address_limit").await?;
            return Ok(SignIn::AddressFull);
        }
        LoginGate::AccountWaits { until } => {
            audit_failed(store, client_addr, username, "account_wait").await?;
            return Ok(SignIn::AccountWaits {
                minutes: minutes_until(until, now),
            });
        }
    };
    let candidate = users::for_login(store, username).await?;
    limiter.count_check();
    let Some(candidate) = candidate else {
        passwords::verify_password_blocking(password.to_owned(), DUMMY_HASH.clone()).await;
        audit_failed(store, client_addr, username, "unknown_user").await?;
        return Ok(SignIn::Refused);
    };
    let user = candidate.user;
    let ok =
        passwords::verify_password_blocking(password.to_owned(), candidate.password_hash).await;
    if !ok || !user.active {
        // The attempt was already counted as a failure when it was admitted.
        let reason = if ok { "inactive" } else { "bad_password" };
        audit_failed(store, client_addr, &user.username, reason).await?;
        return Ok(SignIn::Refused);
    }
    limits::signed_in(store, &admitted).await?;
    let mut tx = store.begin().await?;
    let token = sessions::create(&mut tx, user.id, client_addr).await?;
    let principal = user.principal();
    audit::record(
        &mut tx,
        &Actor {
            principal: Some(&principal),
            client_addr,
        },
        Event {
            action: "auth.login",
            target_kind: "user",
            target_id: user.id.to_string(),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SignIn::Session { token, user })
}

async fn audit_failed(
    store: &Store,
    client_addr: &str,
    username: &str,
    reason: &str,
) -> Result<()> {
    let mut conn = store.pool().acquire().await?;
    let username: String = username.chars().take(AUDITED_USERNAME_CHARS).collect();
    audit::record(
        &mut conn,
        &Actor {
            principal: None,
            client_addr,
        },
        Event {
            action: "auth.login_failed",
            target_kind: "username",
            target_id: username,
            detail: json!({ "reason": reason }),
        },
    )
    .await?;
    Ok(())
}

/// Ends the session of this token (audited when it belonged to someone).
pub async fn sign_out(
    store: &Store,
    token: &str,
    principal: Option<&Principal>,
    client_addr: &str,
) -> Result<()> {
    let mut tx = store.begin().await?;
    sessions::delete(&mut tx, token).await?;
    if let Some(p) = principal {
        audit::record(
            &mut tx,
            &Actor {
                principal: Some(p),
                client_addr,
            },
            Event {
                action: "auth.logout",
                target_kind: "user",
                target_id: p.user_id.unwrap_or_default().to_string(),
                detail: json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What a password change came to.
pub enum PasswordChange {
    /// Changed: every other session is ended, and this is the new one's token.
    Changed { token: String },
    /// The address has used its window; the current password was not checked.
    AddressFull,
    /// The account waits this many whole minutes; the current password was not checked.
    AccountWaits { minutes: i64 },
    /// Refused; a catalog message id says why.
    Refused(&'static str),
}

/// The password form as typed.
#[derive(Clone, Copy)]
pub struct PasswordForm<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub confirm: &'a str,
}

/// Changes the signed-in user's own password. The current password is guessed under the same
/// limits as a sign-in: a stolen session gets no more password checks here than at the login
/// form.
pub async fn change_own_password(
    store: &Store,
    limiter: &LoginLimiter,
    user: &User,
    client_addr: &str,
    form: &PasswordForm<'_>,
    now: i64,
) -> Result<PasswordChange> {
    let PasswordForm {
        current,
        new,
        confirm,
    } = *form;
    let admitted = match limits::admit_login(store, client_addr, &user.username, now).await? {
        LoginGate::Check(admitted) => admitted,
        LoginGate::AddressFull => return Ok(PasswordChange::AddressFull),
        LoginGate::AccountWaits { until } => {
            return Ok(PasswordChange::AccountWaits {
                minutes: minutes_until(until, now),
            });
        }
    };
    let candidate = users::for_login(store, &user.username)
        .await?
        .ok_or(crate::Error::NotFound)?;
    limiter.count_check();
    if !passwords::verify_password_blocking(current.to_owned(), candidate.password_hash).await {
        return Ok(PasswordChange::Refused("password-current-wrong"));
    }
    limits::signed_in(store, &admitted).await?;
    if new != confirm {
        return Ok(PasswordChange::Refused("password-mismatch"));
    }
    if let Err(id) = passwords::check_strength(new) {
        return Ok(PasswordChange::Refused(id));
    }
    let mut tx = store.begin().await?;
    users::set_password(&mut tx, user.id, new.to_owned()).await?;
    let token = sessions::create(&mut tx, user.id, client_addr).await?;
    let principal = user.principal();
    audit::record(
        &mut tx,
        &Actor {
            principal: Some(&principal),
            client_addr,
        },
        Event {
            action: "user.password_change",
            target_kind: "user",
            target_id: user.id.to_string(),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PasswordChange::Changed { token })
}

/// Keeps the signed-in user's language.
pub async fn set_own_locale(store: &Store, user: &User, locale_tag: &str) -> Result<()> {
    users::set_locale(store, user.id, locale_tag).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::minutes_until;

    #[test]
    fn a_wait_is_whole_minutes_rounded_up_and_never_zero() {
        assert_eq!(minutes_until(1_000, 1_000), 1);
        assert_eq!(minutes_until(61_000, 1_000), 1);
        assert_eq!(minutes_until(61_001, 1_000), 2);
        assert_eq!(minutes_until(0, 1_000), 1);
    }
}
