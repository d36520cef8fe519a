//! Allocation of a campaign's pool: the dry run and the commit, for the campaign's owner.
//!
//! A campaign reaches the verified needs of its area; a partner organisation's campaign only
//! those of persons the organisation holds a record of (the store's `candidates` applies it),
//! so its allocation page never lists people it has no record of.

use hamdeli_alloc::Policy;
use hamdeli_domain::Action;
use hamdeli_store::Store;
use hamdeli_store::campaigns::{self, Campaign};
use hamdeli_store::distribution::{self, Committed, Plan, Window};

use crate::{Caller, Error, Result};

/// The campaign if the principal runs it.
pub async fn managed_campaign(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Campaign> {
    let c = campaigns::get(store, id).await?.ok_or(Error::NotFound)?;
    caller
        .principal
        .authorize(Action::ManageCampaign(&c.owner()))?;
    Ok(c)
}

/// Refused with `network-ngo-unlicensed` when the campaign belongs to an NGO without an active,
/// unexpired licence (capability F): it receives no donations and allocates nothing until its
/// licence is active again (the dry run, which writes nothing, stays open).
pub async fn require_funds_allowed(store: &Store, campaign: &Campaign) -> Result<()> {
    match campaign.organisation_id {
        Some(org) => crate::network::require_good_standing(store, org).await,
        None => Ok(()),
    }
}

/// The plan over the database as it is now; nothing written.
pub async fn dry_run(
    store: &Store,
    caller: &Caller<'_>,
    campaign: &Campaign,
    resource: &str,
    policy: Policy,
    window: Window,
) -> Result<Plan> {
    caller
        .principal
        .authorize(Action::ManageCampaign(&campaign.owner()))?;
    Ok(distribution::dry_run(store, campaign, resource, policy, window).await?)
}

/// Recomputes the plan and writes it in one transaction with its audit entry.
pub async fn commit(
    store: &Store,
    caller: &Caller<'_>,
    campaign: &Campaign,
    resource: &str,
    policy: Policy,
    window: Window,
) -> Result<Committed> {
    caller
        .principal
        .authorize(Action::ManageCampaign(&campaign.owner()))?;
    require_funds_allowed(store, campaign).await?;
    let actor = caller.actor();
    Ok(distribution::commit(
        store,
        campaign,
        resource,
        policy,
        window,
        distribution::CommittedBy {
            user: caller.principal.user_id,
            audit: Some(&actor),
        },
    )
    .await?)
}

/// Needs and support by province and need type (public; the caller suppresses small counts).
pub async fn public_cells(store: &Store) -> Result<Vec<distribution::PublicCell>> {
    Ok(distribution::public_cells(store).await?)
}
