//! Campaigns: starting one (an office for its province, a partner for its organisation), its
//! owner's edits and closing, a donor's pledge and its cancellation (by the donor or the
//! office), the office's receipt that makes a pledge a donation, the allocation under area
//! quotas, and a donor's sign-up confirmed by a one-time code sent to the mobile.

use hamdeli_alloc::Policy;
use hamdeli_domain::{Action, Principal, Role, Scope};
use hamdeli_store::campaigns::{self, Campaign, CampaignEdit, Canceller, NewCampaign, SignupCode};
use hamdeli_store::distribution::{self, AreaQuotas, Committed, Plan, Window};
use hamdeli_store::{Store, audit, geo, users};

use crate::sms::SmsSender;
use crate::{Caller, Error, Result, audit_write};

/// Tenths of a toman do not exist: 1 toman = 10 rials. A form's tomans as rials, refused
/// instead of overflowing.
pub fn tomans_to_rials(tomans: i64) -> Result<i64> {
    if tomans < 0 {
        return Err(Error::Invalid("pledge-amount-positive"));
    }
    tomans
        .checked_mul(10)
        .ok_or(Error::Invalid("money-sum-too-large"))
}

/// The eligible area of a campaign: the owner's province (an office's own, or the one asked
/// for) and optionally one of its counties. A county alone names its province.
async fn area(
    store: &Store,
    province: Option<String>,
    county: Option<String>,
) -> Result<(Option<String>, Option<String>)> {
    let Some(county) = county else {
        if let Some(pr) = &province
            && geo::province(store, pr).await?.is_none()
        {
            return Err(Error::Invalid("form-invalid"));
        }
        return Ok((province, None));
    };
    let found = geo::county(store, &county)
        .await?
        .ok_or(Error::Invalid("campaign-county-invalid"))?;
    match &province {
        Some(pr) if *pr != found.province_code => Err(Error::Invalid("campaign-county-invalid")),
        _ => Ok((Some(found.province_code), Some(found.code))),
    }
}

/// A campaign as typed in the form; the area and owner are decided here from the principal.
#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub title: String,
    pub description: String,
    /// The province asked for (ignored for a provincial officer: always its own).
    pub province: Option<String>,
    /// One county of the province as the whole area (none: the whole province).
    pub county: Option<String>,
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
    // An office's county must be one of its province's; a county alone names its province.
    let (province, county) = area(store, province, input.county.clone()).await?;
    let new = NewCampaign {
        title: input.title,
        description: input.description,
        organisation_id: organisation,
        province_code: province,
        county_code: county,
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
        serde_json::json!({ "title": new.title, "province": new.province_code,
            "county": new.county_code }),
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
    // Capability F (issue 15): an NGO without an active licence receives no campaign funds.
    if let Some(org) = campaigns::get(store, campaign)
        .await?
        .and_then(|c| c.organisation_id)
    {
        crate::network::require_good_standing(store, org).await?;
    }
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
    crate::distribution::require_funds_allowed(store, &c).await?;
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

/// A campaign's edit as typed in the form.
#[derive(Debug, Clone)]
pub struct CampaignEditInput {
    pub title: String,
    pub description: String,
    /// One county of the campaign's province (none: the whole province, or country).
    pub county: Option<String>,
    pub goal_rials: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub need_types: Vec<(String, i64)>,
}

/// The campaign's owner edits its words, county, goals, dates and need types (the province and
/// the owner stay); the transparency log gets the new terms.
pub async fn edit(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    input: CampaignEditInput,
) -> Result<()> {
    let c = crate::distribution::managed_campaign(store, caller, id).await?;
    let county = match input.county {
        None => None,
        Some(county) => {
            let (province, county) = area(store, c.province_code.clone(), Some(county)).await?;
            // A country-wide campaign keeps the country: its area is not narrowed by a county.
            if province != c.province_code {
                return Err(Error::Invalid("campaign-county-invalid"));
            }
            county
        }
    };
    let e = CampaignEdit {
        title: input.title,
        description: input.description,
        county_code: county,
        goal_rials: input.goal_rials,
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        need_types: input.need_types,
    };
    let mut tx = store.begin().await?;
    campaigns::update(&mut tx, c.id, &e).await?;
    audit_write(
        &mut tx,
        caller,
        "campaign.update",
        "campaign",
        c.id.to_string(),
        serde_json::json!({ "title": e.title, "county": e.county_code,
            "goal_rials": e.goal_rials, "starts_on": e.starts_on, "ends_on": e.ends_on,
            "need_types": e.need_types.iter().map(|(t, _)| t).collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The campaign's owner closes it: no pledge is taken after.
pub async fn close(store: &Store, caller: &Caller<'_>, id: i64) -> Result<()> {
    let c = crate::distribution::managed_campaign(store, caller, id).await?;
    let mut tx = store.begin().await?;
    campaigns::close(&mut tx, c.id, caller.principal.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "campaign.close",
        "campaign",
        c.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels a pledge not yet received: a donor her own, the campaign's office any of its
/// campaign's. Another donor's pledge is "not found" to a donor.
pub async fn cancel_pledge(
    store: &Store,
    caller: &Caller<'_>,
    campaign: i64,
    pledge: i64,
) -> Result<()> {
    let p = caller.principal;
    let found = campaigns::pledge_by_id(store, pledge)
        .await?
        .filter(|pl| pl.campaign_id == campaign)
        .ok_or(Error::NotFound)?;
    let who = if p.allows(&Action::Pledge) {
        let donor = own_donor(store, p).await?;
        if found.donor_id != donor {
            return Err(Error::NotFound);
        }
        Canceller::Donor(donor)
    } else {
        crate::distribution::managed_campaign(store, caller, campaign).await?;
        Canceller::Campaign(campaign)
    };
    let mut tx = store.begin().await?;
    campaigns::cancel_pledge(&mut tx, found.id, who, p.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "pledge.cancel",
        "pledge",
        found.id.to_string(),
        serde_json::json!({ "campaign": campaign,
            "by": if matches!(who, Canceller::Donor(_)) { "donor" } else { "office" } }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in donor's profile id.
async fn own_donor(store: &Store, p: &Principal) -> Result<i64> {
    let user = p.user_id.ok_or(Error::Denied)?;
    Ok(campaigns::donor_of_user(store, user)
        .await?
        .ok_or(Error::Invalid("donor-profile-missing"))?
        .id)
}

/// What an allocation run is asked for: the pool's resource, the policy, the window of support
/// received elsewhere, and the area quotas.
#[derive(Debug, Clone)]
pub struct AllocationRequest {
    pub resource: String,
    pub policy: Policy,
    pub window: Window,
    pub quotas: AreaQuotas,
}

/// The dry run under area quotas; nothing written.
pub async fn allocation_dry_run(
    store: &Store,
    caller: &Caller<'_>,
    campaign: &Campaign,
    req: &AllocationRequest,
) -> Result<Plan> {
    caller
        .principal
        .authorize(Action::ManageCampaign(&campaign.owner()))?;
    Ok(distribution::dry_run_with_quotas(
        store,
        campaign,
        &req.resource,
        req.policy,
        req.window,
        &req.quotas,
    )
    .await?)
}

/// What the allocation page shows: the whole dry run of a campaign with at most
/// [`distribution::FULL_DRY_RUN_MAX`] candidate needs; above that, the candidates counted
/// set-based and one page of them by key (the commit still computes the exact plan).
#[derive(Debug, Clone)]
pub enum AllocationPreview {
    Plan(Plan),
    Overview {
        counts: distribution::CandidateCounts,
        page: Vec<distribution::PlanLine>,
        /// The need id the next page starts after, when there is one.
        next: Option<i64>,
    },
}

/// Rows of one page of a large allocation's candidates.
pub const CANDIDATE_PAGE_ROWS: i64 = 100;

/// The allocation page's preview: the dry run, or for a large campaign its overview with the
/// page of candidates after need id `after`.
pub async fn allocation_preview(
    store: &Store,
    caller: &Caller<'_>,
    campaign: &Campaign,
    req: &AllocationRequest,
    after: Option<i64>,
) -> Result<AllocationPreview> {
    caller
        .principal
        .authorize(Action::ManageCampaign(&campaign.owner()))?;
    let counts =
        distribution::candidate_counts(store, campaign, &req.resource, req.quotas.level).await?;
    if counts.candidates <= distribution::FULL_DRY_RUN_MAX {
        return Ok(AllocationPreview::Plan(
            allocation_dry_run(store, caller, campaign, req).await?,
        ));
    }
    let mut page = distribution::candidate_page(
        store,
        campaign,
        &req.resource,
        req.window,
        after.unwrap_or(0),
        CANDIDATE_PAGE_ROWS + 1,
    )
    .await?;
    let next = if page.len() as i64 > CANDIDATE_PAGE_ROWS {
        page.truncate(CANDIDATE_PAGE_ROWS as usize);
        page.last().map(|l| l.candidate.need_id)
    } else {
        None
    };
    Ok(AllocationPreview::Overview { counts, page, next })
}

/// Recomputes the plan under the same quotas and writes it in one transaction with its audit
/// entry.
pub async fn allocation_commit(
    store: &Store,
    caller: &Caller<'_>,
    campaign: &Campaign,
    req: &AllocationRequest,
) -> Result<Committed> {
    caller
        .principal
        .authorize(Action::ManageCampaign(&campaign.owner()))?;
    crate::distribution::require_funds_allowed(store, campaign).await?;
    let actor = caller.actor();
    Ok(distribution::commit_with_quotas(
        store,
        campaign,
        &req.resource,
        req.policy,
        req.window,
        &req.quotas,
        distribution::CommittedBy {
            user: caller.principal.user_id,
            audit: Some(&actor),
        },
    )
    .await?)
}

// ---------------------------------------------------------------------------------------------
// A donor's sign-up, confirmed by a one-time code

/// How many codes one mobile may be sent per hour.
pub const SIGNUP_CODES_PER_MOBILE: i64 = 3;
const SIGNUP_CODE_WINDOW_MILLIS: i64 = 60 * 60 * 1000;

/// The first step of a donor's sign-up: the number is free, the number has not had too many
/// codes this hour; a new code (valid ten minutes, five tries) is kept hashed and sent by text
/// message. `message` makes the text from the code. The caller counts the attempt against its
/// address first.
pub async fn start_signup(
    store: &Store,
    sms: &dyn SmsSender,
    key: &[u8],
    mobile: &str,
    display_name: &str,
    message: &(dyn Fn(&str) -> String + Sync),
) -> Result<()> {
    if display_name.trim().is_empty() {
        return Err(Error::Invalid("donor-name-required"));
    }
    if campaigns::mobile_registered(store, mobile).await? {
        return Err(Error::Conflict("donor-mobile-taken"));
    }
    let now = hamdeli_store::now_millis();
    if hamdeli_store::sessions::reserve_window(
        store,
        &format!("signup-code:{mobile}"),
        SIGNUP_CODES_PER_MOBILE,
        SIGNUP_CODE_WINDOW_MILLIS,
        now,
    )
    .await?
    .is_none()
    {
        return Err(Error::Conflict("signup-code-too-many"));
    }
    // Codes long dead are forgotten here (the table holds only pending sign-ups).
    campaigns::purge_signup_codes(store, now).await?;
    let code = campaigns::new_signup_code();
    let hash = campaigns::signup_code_hash(key, mobile, &code);
    campaigns::put_signup_code(store, mobile, display_name.trim(), &hash, now).await?;
    if let Err(e) = sms.send(mobile, &message(&code)).await {
        tracing::warn!(error = %e, "a sign-up code could not be sent");
        return Err(Error::Conflict("signup-code-not-sent"));
    }
    Ok(())
}

/// The second step: the code typed for the number. A wrong code counts (five, then the code is
/// dead); an expired one is refused; the right one creates the donor's account with the
/// password chosen now, audited in the same transaction. Returns the new user's id.
pub async fn finish_signup(
    store: &Store,
    client_addr: &str,
    key: &[u8],
    mobile: &str,
    code: &str,
    password: &str,
    locale: &str,
) -> Result<i64> {
    hamdeli_store::passwords::check_strength(password).map_err(Error::Invalid)?;
    let code: String = code
        .chars()
        .map(hamdeli_domain_digit)
        .filter(|c| !c.is_whitespace())
        .collect();
    let hash = campaigns::signup_code_hash(key, mobile, &code);
    let now = hamdeli_store::now_millis();
    let mut tx = store.begin().await?;
    let display_name = match campaigns::try_signup_code(&mut tx, mobile, &hash, now).await? {
        SignupCode::Right { display_name } => display_name,
        refused => {
            // The counted try stays counted.
            tx.commit().await?;
            return Err(match refused {
                SignupCode::Wrong { .. } => Error::Invalid("signup-code-wrong"),
                SignupCode::Expired => Error::Invalid("signup-code-expired"),
                SignupCode::TooManyTries => Error::Invalid("signup-code-too-many-tries"),
                _ => Error::Invalid("signup-code-missing"),
            });
        }
    };
    let user = users::create(
        &mut tx,
        users::NewUser {
            username: mobile.to_owned(),
            display_name,
            password: password.to_owned(),
            role: Role::Donor,
            scope: Scope::Own,
            locale: locale.to_owned(),
            is_demo: false,
        },
    )
    .await;
    let user = match user {
        Ok(id) => id,
        Err(hamdeli_store::StoreError::Conflict(_)) => {
            return Err(Error::Conflict("donor-mobile-taken"));
        }
        Err(e) if e.is_unique_violation() => return Err(Error::Conflict("donor-mobile-taken")),
        Err(e) => return Err(e.into()),
    };
    campaigns::register_donor(&mut tx, user, mobile).await?;
    audit::record(
        &mut tx,
        &audit::Actor {
            principal: None,
            client_addr,
        },
        audit::Event {
            action: "donor.signup",
            target_kind: "user",
            target_id: user.to_string(),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// A digit in any script as ASCII (Persian and Arabic-Indic digits fold), anything else kept.
fn hamdeli_domain_digit(c: char) -> char {
    match c {
        '\u{06F0}'..='\u{06F9}' => char::from_u32(c as u32 - 0x06F0 + u32::from(b'0')).unwrap_or(c),
        '\u{0660}'..='\u{0669}' => char::from_u32(c as u32 - 0x0660 + u32::from(b'0')).unwrap_or(c),
        _ => c,
    }
}

// ---------------------------------------------------------------------------------------------
// Public reads (no principal: nothing personal) and the owner's edit form

/// A campaign with the need types it serves and its pools (goals and progress).
#[derive(Debug, Clone)]
pub struct CampaignSummary {
    pub campaign: Campaign,
    pub need_types: Vec<String>,
    pub pools: Vec<campaigns::CampaignPool>,
}

/// Every campaign with its need types and pools (public: the API's campaign list).
pub async fn public_list(store: &Store) -> Result<Vec<CampaignSummary>> {
    let mut out = vec![];
    for c in campaigns::list(store).await? {
        out.push(CampaignSummary {
            need_types: campaigns::need_types_of(store, c.id).await?,
            pools: campaigns::pools(store, c.id).await?,
            campaign: c,
        });
    }
    Ok(out)
}

/// Where a campaign's allocations went, by province, zone and need type, never by person
/// (public; the caller suppresses small counts). An unknown campaign is `NotFound`.
pub async fn public_destinations(store: &Store, id: i64) -> Result<Vec<campaigns::Destination>> {
    campaigns::get(store, id).await?.ok_or(Error::NotFound)?;
    Ok(campaigns::destinations(store, id, None).await?)
}

/// A donation as its receipt code shows it (public: no donor, no recipient).
#[derive(Debug, Clone)]
pub struct Receipt {
    pub pledge: campaigns::Pledge,
    /// The hash of the transparency-log entry that recorded the receipt, when published.
    pub entry_hash: Option<String>,
    /// Where the campaign's allocations of the donation's resource went.
    pub destinations: Vec<campaigns::Destination>,
}

/// The donation of a (normalised) receipt code, with its transparency-log entry and where the
/// campaign's allocations of its resource went; `None` for an unknown code (public).
pub async fn receipt(store: &Store, code: &str) -> Result<Option<Receipt>> {
    let Some(pledge) = campaigns::by_receipt(store, code).await? else {
        return Ok(None);
    };
    let entry_hash = match pledge.ledger_seq {
        Some(seq) => hamdeli_store::ledger::recent(store, Some(seq + 1), 1)
            .await?
            .into_iter()
            .find(|e| e.seq == seq)
            .map(|e| e.hash),
        None => None,
    };
    let destinations =
        campaigns::destinations(store, pledge.campaign_id, Some(&pledge.resource)).await?;
    Ok(Some(Receipt {
        pledge,
        entry_hash,
        destinations,
    }))
}

/// A campaign as its owner edits it: refused unless the principal runs it (403; unknown: 404).
pub async fn for_edit(store: &Store, caller: &Caller<'_>, id: i64) -> Result<CampaignSummary> {
    let campaign = crate::distribution::managed_campaign(store, caller, id).await?;
    Ok(CampaignSummary {
        need_types: campaigns::need_types_of(store, id).await?,
        pools: campaigns::pools(store, id).await?,
        campaign,
    })
}

/// A campaign's page: the campaign, its need types, pools and where its allocations went (by
/// area and need type, never by person) and, only to a principal who runs it, its pledges.
#[derive(Debug, Clone)]
pub struct CampaignPage {
    pub summary: CampaignSummary,
    pub destinations: Vec<campaigns::Destination>,
    /// The campaign's pledges when the principal runs it (`None` to anyone else).
    pub pledges: Option<Vec<campaigns::Pledge>>,
}

/// A campaign's page as the principal (or an anonymous visitor) sees it; unknown: `NotFound`.
pub async fn page(store: &Store, principal: Option<&Principal>, id: i64) -> Result<CampaignPage> {
    let campaign = campaigns::get(store, id).await?.ok_or(Error::NotFound)?;
    let may_manage = principal
        .is_some_and(|p| p.allows(&hamdeli_domain::Action::ManageCampaign(&campaign.owner())));
    let pledges = if may_manage {
        Some(campaigns::pledges_of_campaign(store, id).await?)
    } else {
        None
    };
    Ok(CampaignPage {
        destinations: campaigns::destinations(store, id, None).await?,
        pledges,
        summary: CampaignSummary {
            need_types: campaigns::need_types_of(store, id).await?,
            pools: campaigns::pools(store, id).await?,
            campaign,
        },
    })
}

/// A pledge of a campaign the principal runs, as its receipt form needs it: refused unless the
/// principal runs the campaign (403; unknown campaign: 404); a pledge of another campaign: 404.
pub async fn managed_pledge(
    store: &Store,
    caller: &Caller<'_>,
    campaign_id: i64,
    pledge_id: i64,
) -> Result<campaigns::Pledge> {
    crate::distribution::managed_campaign(store, caller, campaign_id).await?;
    campaigns::pledge_by_id(store, pledge_id)
        .await?
        .filter(|pl| pl.campaign_id == campaign_id)
        .ok_or(Error::NotFound)
}

/// Whether a mobile number already belongs to a donor or an account (the sign-up form's check
/// before it sends a code; the sign-up itself checks again).
pub async fn mobile_registered(store: &Store, mobile: &str) -> Result<bool> {
    Ok(campaigns::mobile_registered(store, mobile).await?)
}

/// A donor's own page: her mobile, her pledges and, per campaign of a received pledge, where
/// its allocations went.
#[derive(Debug, Clone, Default)]
pub struct DonorOverview {
    /// Empty when the account has no donor record.
    pub mobile: String,
    pub pledges: Vec<campaigns::Pledge>,
    /// (campaign id, campaign title, destinations) in the order of the pledges.
    pub destinations: Vec<(i64, String, Vec<campaigns::Destination>)>,
}

/// The signed-in donor's pledges and where each received one went; refused unless the
/// principal may pledge and is a signed-in user.
pub async fn donor_overview(store: &Store, caller: &Caller<'_>) -> Result<DonorOverview> {
    caller.principal.authorize(hamdeli_domain::Action::Pledge)?;
    let user = caller.principal.user_id.ok_or(Error::Denied)?;
    let Some(donor) = campaigns::donor_of_user(store, user).await? else {
        return Ok(DonorOverview::default());
    };
    let pledges = campaigns::pledges_of_donor(store, donor.id).await?;
    let mut destinations = vec![];
    let mut seen = vec![];
    for pl in pledges.iter().filter(|pl| pl.status == "received") {
        if seen.contains(&pl.campaign_id) {
            continue;
        }
        seen.push(pl.campaign_id);
        let rows = campaigns::destinations(store, pl.campaign_id, None).await?;
        destinations.push((pl.campaign_id, pl.campaign_title.clone(), rows));
    }
    Ok(DonorOverview {
        mobile: donor.mobile,
        pledges,
        destinations,
    })
}

/// The public statistics: needs and support by province and need type (the caller suppresses
/// small counts), the number of campaigns, of received donations and of organisations.
#[derive(Debug, Clone)]
pub struct PublicStats {
    pub cells: Vec<distribution::PublicCell>,
    pub campaigns: i64,
    pub donations: i64,
    pub organisations: i64,
}

/// The public statistics (no principal: nothing personal).
pub async fn public_stats(store: &Store) -> Result<PublicStats> {
    let cells = distribution::public_cells(store).await?;
    let all = campaigns::list(store).await?;
    let mut donations = 0;
    for c in &all {
        donations += campaigns::pledges_of_campaign(store, c.id)
            .await?
            .iter()
            .filter(|p| p.status == "received")
            .count() as i64;
    }
    let organisations = hamdeli_store::organisations::list(store, &hamdeli_domain::PlaceFilter::All)
        .await?
        .len() as i64;
    Ok(PublicStats {
        cells,
        campaigns: all.len() as i64,
        donations,
        organisations,
    })
}
