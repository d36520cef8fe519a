//! Data-sharing rules between organisations (national admin only): by default a partner sees
//! of another organisation's records only that a match exists; "full" lets it read them.

use hamdeli_domain::Role;
use hamdeli_store::sharing::{self, Level, Rule};
use hamdeli_store::{Store, organisations};

use crate::{Caller, Error, Result, audit_write};

pub async fn set_rule(
    store: &Store,
    caller: &Caller<'_>,
    from: i64,
    to: i64,
    level: Level,
) -> Result<()> {
    if caller.principal.role != Role::NationalAdmin {
        return Err(Error::Denied);
    }
    if from == to {
        return Err(Error::Invalid("sharing-same-organisation"));
    }
    for org in [from, to] {
        if organisations::by_id(store, org).await?.is_none() {
            return Err(Error::NotFound);
        }
    }
    let mut tx = store.begin().await?;
    sharing::set(&mut tx, from, to, level, caller.principal.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "sharing.set",
        "organisation",
        from.to_string(),
        serde_json::json!({ "to": to, "level": level.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The rules an organisation gives and receives: for the national admin, and for a partner
/// about its own organisation.
pub async fn rules_of(store: &Store, caller: &Caller<'_>, organisation: i64) -> Result<Vec<Rule>> {
    let p = caller.principal;
    let allowed = p.role == Role::NationalAdmin || p.scope.organisation() == Some(organisation);
    if !allowed {
        return Err(Error::Denied);
    }
    Ok(sharing::rules_of(store, organisation).await?)
}
