//! Campaigns: starting one (an office for its province, a partner for its organisation),
//! a donor's pledge, and the office's receipt that makes a pledge a donation.

use hamdeli_domain::{Action, Role, Scope};
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::{Store, geo};

use crate::{Caller, Error, Result, audit_write};

/// A campaign as typed in the form; the area and owner are decided here from the principal.
#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub title: String,
    pub description: String,
    /// The province asked for (ignored for a provincial officer: always its own).
    pub province: Option<String>,
    pub goal_rials: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub need_types: Vec<(String, i64)>,
}

pub async fn create(store: &Store, caller: &Caller<'_>, input: CampaignInput) -> Result<i64> {
    let p = caller.principal;
    p.authorize(Action::CreateCampaign)?;
    // An office's campaign covers its own province; a partner's belongs to its organisation.
    let (province, organisation) = match (&p.role, &p.scope) {
        (Role::ProvincialOfficer, Scope::Province { province }) => (Some(province.clone()), None),
        (Role::PartnerOrg, Scope::Organisation { organisation }) => {
            (input.province.clone(), Some(*organisation))
        }
        (Role::NationalAdmin, _) => (input.province.clone(), None),
        _ => return Err(Error::Denied),
    };
    if let Some(pr) = &province
        && geo::province(store, pr).await?.is_none()
    {
        return Err(Error::Invalid("form-invalid"));
    }
    let new = NewCampaign {
        title: input.title,
        description: input.description,
        organisation_id: organisation,
        province_code: province,
        county_code: None,
        goal_rials: input.goal_rials,
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        need_types: input.need_types,
    };
    let mut tx = store.begin().await?;
    let id = campaigns::create(&mut tx, &new, p.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "campaign.create",
        "campaign",
        id.to_string(),
        serde_json::json!({ "title": new.title, "province": new.province_code }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A donor's pledge; the store refuses one over the caps or to a closed campaign.
pub async fn pledge(
    store: &Store,
    caller: &Caller<'_>,
    campaign: i64,
    resource: &str,
    amount: i64,
) -> Result<i64> {
    let p = caller.principal;
    p.authorize(Action::Pledge)?;
    let user = p.user_id.ok_or(Error::Denied)?;
    let donor = campaigns::donor_of_user(store, user)
        .await?
        .ok_or(Error::Invalid("donor-profile-missing"))?;
    let mut tx = store.begin().await?;
    let pledge_id = campaigns::pledge(&mut tx, campaign, donor.id, resource, amount).await?;
    audit_write(
        &mut tx,
        caller,
        "pledge.create",
        "pledge",
        pledge_id.to_string(),
        serde_json::json!({ "campaign": campaign, "resource": resource, "amount": amount }),
    )
    .await?;
    tx.commit().await?;
    Ok(pledge_id)
}

/// The campaign's office records the receipt of a pledge: a donation with a receipt code.
pub async fn receive(
    store: &Store,
    caller: &Caller<'_>,
    campaign: i64,
    pledge: i64,
    amount: i64,
    reference: &str,
) -> Result<String> {
    let c = crate::distribution::managed_campaign(store, caller, campaign).await?;
    let pledge = campaigns::pledge_by_id(store, pledge)
        .await?
        .filter(|pl| pl.campaign_id == c.id)
        .ok_or(Error::NotFound)?;
    let mut tx = store.begin().await?;
    let code = campaigns::receive(
        &mut tx,
        pledge.id,
        amount,
        reference,
        caller.principal.user_id,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "donation.receive",
        "pledge",
        pledge.id.to_string(),
        serde_json::json!({ "campaign": c.id, "amount": amount, "receipt": code }),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}
