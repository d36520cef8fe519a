//! The application layer. Each use case is one function that takes the acting principal,
//! authorises it, opens the transaction, calls the store, writes its audit entry inside that
//! transaction and commits, returning a typed [`Error`]. Web pages, the JSON API and the CLI
//! only parse, call a use case and render: scope is decided here, once.

use hamdeli_domain::{Denied, Principal, Role, Scope};
use hamdeli_store::{StoreError, audit};

pub mod accounts;
pub mod api_keys;
pub mod audit_log;
pub mod campaigns;
pub mod dashboard;
pub mod distribution;
pub mod entry;
pub mod imports;
pub mod loans;
pub mod market;
pub mod needs;
pub mod network;
pub mod organisations;
pub mod policy_doc;
pub mod registry;
pub mod reports;
pub mod sharing;
pub mod sms;
pub mod support;
pub mod transparency;
pub mod users;

/// Who acts, and from where (an IP address, or `cli` for the command line).
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub principal: &'a Principal,
    pub client_addr: &'a str,
}

impl<'a> Caller<'a> {
    pub fn new(principal: &'a Principal, client_addr: &'a str) -> Caller<'a> {
        Caller {
            principal,
            client_addr,
        }
    }

    pub fn actor(&self) -> audit::Actor<'a> {
        audit::Actor {
            principal: Some(self.principal),
            client_addr: self.client_addr,
        }
    }
}

/// The command line acts as a named system principal with the national scope, audited like
/// everyone else (`cli:<os user>`).
pub fn system_principal() -> Principal {
    let os_user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Principal {
        user_id: None,
        api_key_id: None,
        name: format!("cli:{os_user}"),
        role: Role::NationalAdmin,
        scope: Scope::Country,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The principal may not do this.
    #[error("access denied")]
    Denied,
    /// Absent, or outside the principal's scope (the two look the same).
    #[error("not found")]
    NotFound,
    /// Input the use case refuses; the code is a catalog message id.
    #[error("invalid: {0}")]
    Invalid(&'static str),
    /// A rule the state refuses (already decided, different codes …); a catalog message id.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Store(StoreError),
}

impl From<Denied> for Error {
    fn from(_: Denied) -> Self {
        Error::Denied
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Invalid(code) => Error::Invalid(code),
            StoreError::Conflict(code) => Error::Conflict(code),
            other => Error::Store(other),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(StoreError::Db(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Writes the audit entry of a read (grouped with concurrent reads; the read is refused when
/// its entry cannot be written).
pub(crate) async fn audit_read(
    store: &hamdeli_store::Store,
    caller: &Caller<'_>,
    action: &str,
    target_kind: &str,
    target_id: String,
    detail: serde_json::Value,
) -> Result<()> {
    audit::record_read(
        store,
        &caller.actor(),
        audit::Event {
            action,
            target_kind,
            target_id,
            detail,
        },
    )
    .await?;
    Ok(())
}

/// Writes the audit entry of a change inside its transaction.
pub(crate) async fn audit_write(
    tx: &mut hamdeli_store::Tx,
    caller: &Caller<'_>,
    action: &str,
    target_kind: &str,
    target_id: String,
    detail: serde_json::Value,
) -> Result<()> {
    audit::record(
        tx,
        &caller.actor(),
        audit::Event {
            action,
            target_kind,
            target_id,
            detail,
        },
    )
    .await?;
    Ok(())
}
