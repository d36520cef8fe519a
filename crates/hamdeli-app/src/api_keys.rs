//! API keys of a partner organisation: issued (the secret shown once) and revoked by the
//! organisation's own partner user or the national admin.

use hamdeli_domain::{Action, Role};
use hamdeli_store::api_keys::ApiKey;
use hamdeli_store::organisations::Organisation;
use hamdeli_store::{Store, api_keys};

use crate::{Caller, Error, Result, audit_write};

/// The keys page: the organisations whose keys the principal manages (refused when there is
/// none, except for the national admin) and the keys in the principal's scope.
pub async fn overview(
    store: &Store,
    caller: &Caller<'_>,
) -> Result<(Vec<Organisation>, Vec<ApiKey>)> {
    let p = caller.principal;
    let organisations: Vec<Organisation> = crate::organisations::in_scope(store, caller)
        .await?
        .into_iter()
        .filter(|o| p.allows(&Action::ManageApiKeys(o.id)))
        .collect();
    if organisations.is_empty() && p.role != Role::NationalAdmin {
        return Err(Error::Denied);
    }
    let keys = api_keys::list(store, &p.place_filter()).await?;
    Ok((organisations, keys))
}

/// Issues a key; returns its id and the secret (stored hashed, shown once).
pub async fn issue(
    store: &Store,
    caller: &Caller<'_>,
    organisation: i64,
    name: &str,
) -> Result<(i64, String)> {
    caller
        .principal
        .authorize(Action::ManageApiKeys(organisation))?;
    crate::organisations::require_active(store, organisation).await?;
    let mut tx = store.begin().await?;
    let (id, secret) =
        api_keys::issue(&mut tx, organisation, name, caller.principal.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "api_key.issue",
        "api_key",
        id.to_string(),
        serde_json::json!({ "organisation": organisation, "name": name.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

pub async fn revoke(store: &Store, caller: &Caller<'_>, id: i64) -> Result<()> {
    let key = api_keys::by_id(store, id).await?.ok_or(Error::NotFound)?;
    let organisation = key.scope.organisation().ok_or(Error::Denied)?;
    caller
        .principal
        .authorize(Action::ManageApiKeys(organisation))?;
    let mut tx = store.begin().await?;
    api_keys::revoke(&mut tx, id).await?;
    audit_write(
        &mut tx,
        caller,
        "api_key.revoke",
        "api_key",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
