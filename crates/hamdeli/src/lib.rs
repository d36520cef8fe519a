//! The `hamdeli` binary's library part: configuration, start-up and the demo data set, shared
//! by `main.rs` and the integration tests.

pub mod bench;
pub mod config;
pub mod demo;
pub mod demo_distribution;
pub mod demo_loans;
pub mod demo_market;
pub mod demo_network;
pub mod demo_population;
pub mod demo_reports;
pub mod link;
pub mod progress;
pub mod sms;

use anyhow::{Context, Result};

use hamdeli_store::Store;
use hamdeli_web::{AppState, WebConfig};

pub use config::Config;

/// Opens the configured database (creating the data directory for SQLite) and migrates it.
pub async fn open_store(config: &Config) -> Result<Store> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    Store::open(&config.database_url)
        .await
        .with_context(|| format!("opening database {}", redact(&config.database_url)))
}

/// The web state for a store and configuration.
pub async fn app_state(store: Store, config: &Config) -> Result<AppState> {
    let web = WebConfig {
        secret_key: config.secret_key_bytes()?,
        secure_cookies: config.secure_cookies,
        default_locale: config.default_locale,
        trusted_proxies: config.trusted_proxies.clone(),
    };
    let mut state = AppState::new(store, web).await?;
    // Sign-up codes go into the log only when asked, or for the demo data set.
    state.sms = sms::sender(
        config.sms_gateway_url.as_deref(),
        config.sms_log_codes.unwrap_or(state.demo),
    )?;
    Ok(state)
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
