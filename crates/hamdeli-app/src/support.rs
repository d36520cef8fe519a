//! Every organisation records its aid (issue 12.4): a partner organisation records single
//! pieces of support to persons it holds a record of (by page or by the write API, once per
//! idempotency key), lists what it recorded, delivers the allocations of its own campaigns,
//! asks whether a national code is in the registry, and sees its persons served twice.
//!
//! Scope: the organisation is the principal's own (a partner user or an API key bound to one
//! organisation); a person it holds no record of looks absent (404), as does an allocation of a
//! campaign another organisation or an office runs. What a partner learns of persons other
//! organisations hold is only that a match exists and with whom (the default sharing rule).

use hamdeli_domain::{Action, CampaignOwner, PlaceFilter, Principal, Role};
use hamdeli_store::distribution::{self, AllocationRow, DoubleService};
use hamdeli_store::support::{self as store_support, Holder, NewSupport, Recorded, SupportRow};
use hamdeli_store::{Store, needs, organisations, persons};

use crate::{Caller, Error, Result, audit_read, audit_write};

/// Who the support is for: the registry's person id, or a national code (ASCII digits,
/// already checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    Id(i64),
    NationalCode(String),
}

/// One piece of support as reported.
#[derive(Debug, Clone)]
pub struct SupportInput {
    pub person: PersonRef,
    /// A need-type code (`food`, `rent_housing`, …).
    pub kind: String,
    /// Rials for money, a count for goods and services; above zero.
    pub amount: i64,
    /// The day it was given, ISO (`2026-11-22`); not in the future.
    pub date: String,
    /// One of the organisation's own active programmes, by id …
    pub programme_id: Option<i64>,
    /// … or by its Persian or English name.
    pub programme_name: Option<String>,
    pub note: Option<String>,
    /// The client's `Idempotency-Key` (1–200 visible ASCII characters).
    pub idempotency_key: Option<String>,
}

/// What recording answered: written now, or the first result of the same key.
#[derive(Debug, Clone)]
pub enum Outcome {
    Created(Recorded),
    Replayed(Recorded),
}

impl Outcome {
    pub fn recorded(&self) -> &Recorded {
        match self {
            Outcome::Created(r) | Outcome::Replayed(r) => r,
        }
    }
}

/// The organisation a principal records for: its own, as its partner (the policy's
/// `ImportList`: the organisation's own partner user or key).
fn own_organisation(p: &Principal) -> Result<i64> {
    let org = p.scope.organisation().ok_or(Error::Denied)?;
    if p.role != Role::PartnerOrg {
        return Err(Error::Denied);
    }
    p.authorize(Action::ImportList(org))?;
    Ok(org)
}

/// Whether the principal (a partner) holds a record of the person.
async fn holds(store: &Store, org: i64, person: i64) -> Result<bool> {
    Ok(persons::in_scope(store, &PlaceFilter::Organisation(org), person).await?)
}

/// The person (a merge's survivor) the organisation holds a record of.
async fn resolve_person(store: &Store, org: i64, person: &PersonRef) -> Result<i64> {
    match person {
        PersonRef::Id(id) => {
            let p = persons::person(store, *id).await?.ok_or(Error::NotFound)?;
            let id = p.merged_into.unwrap_or(p.id);
            if holds(store, org, id).await? {
                Ok(id)
            } else {
                Err(Error::NotFound)
            }
        }
        PersonRef::NationalCode(code) => {
            let mut mine = vec![];
            for id in store_support::persons_with_code(store, code).await? {
                if holds(store, org, id).await? {
                    mine.push(id);
                }
            }
            if mine.len() > 1 {
                // A household's rows may carry the head's code: the person carrying it wins.
                mine = store_support::carrying_code(store, &mine, code).await?;
            }
            match mine.as_slice() {
                [] => Err(Error::NotFound),
                [one] => Ok(*one),
                _ => Err(Error::Conflict("support-person-ambiguous")),
            }
        }
    }
}

fn valid_key(key: &str) -> bool {
    (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The instant (noon in Iran) of an ISO date, if it is one.
fn noon_of(date: &str) -> Option<i64> {
    hamdeli_store::registry::facts::noon_in_iran(date)
}

/// Checks and completes a report into what the ledger takes.
async fn prepare(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    input: &SupportInput,
) -> Result<NewSupport> {
    let p = caller.principal;
    let kind = input.kind.trim();
    let known = needs::need_types(store)
        .await?
        .into_iter()
        .any(|t| t.active && t.code == kind);
    if !known {
        return Err(Error::Invalid("need-type-unknown"));
    }
    if input.amount <= 0 {
        return Err(Error::Invalid("need-amount-positive"));
    }
    let at = noon_of(input.date.trim()).ok_or(Error::Invalid("date-invalid"))?;
    // Not after today in Iran (noon of tomorrow is still in the future).
    if at > hamdeli_store::now_millis() + 12 * 3_600_000 {
        return Err(Error::Invalid("date-invalid"));
    }
    let programme_id = match (
        input.programme_id,
        input.programme_name.as_deref().map(str::trim),
    ) {
        (None, None | Some("")) => None,
        (id, name) => {
            let found = organisations::programmes_of(store, org)
                .await?
                .into_iter()
                .filter(|g| g.active)
                .find(|g| match (id, name) {
                    (Some(id), _) => g.id == id,
                    (None, Some(n)) => g.name_fa.trim() == n || g.name_en.trim() == n,
                    (None, None) => false,
                });
            match found {
                // An id and a name must name the same programme.
                Some(g)
                    if name.is_none_or(|n| {
                        n.is_empty() || g.name_fa.trim() == n || g.name_en.trim() == n
                    }) =>
                {
                    Some(g.id)
                }
                _ => return Err(Error::Invalid("support-programme-unknown")),
            }
        }
    };
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(Error::Invalid("form-invalid"));
    }
    let key = match input.idempotency_key.as_deref().map(str::trim) {
        None => None,
        Some(k) if valid_key(k) => Some(k.to_owned()),
        Some(_) => return Err(Error::Invalid("support-idempotency-key-invalid")),
    };
    let person_id = resolve_person(store, org, &input.person).await?;
    Ok(NewSupport {
        person_id,
        organisation_id: org,
        need_type: kind.to_owned(),
        amount: input.amount,
        given_on: input.date.trim().to_owned(),
        at,
        period: hamdeli_registry::import::jalali_period(at),
        programme_id,
        note,
        recorded_by: p.user_id,
        recorded_by_api_key: p.api_key_id,
        idempotency_key: key,
    })
}

/// The answer to a key already used: its first result when the request is the same, else a
/// conflict (a different body under the same key). The replay is audited as a read.
async fn replay(
    store: &Store,
    caller: &Caller<'_>,
    first: Recorded,
    asked: &NewSupport,
) -> Result<Outcome> {
    if !first.same_as(asked) {
        return Err(Error::Conflict("support-idempotency-conflict"));
    }
    audit_read(
        store,
        caller,
        "support.replay",
        "support",
        first.id.to_string(),
        serde_json::json!({ "person": first.person_id }),
    )
    .await?;
    Ok(Outcome::Replayed(first))
}

/// Records one piece of support of the principal's organisation to a person it holds a record
/// of: the ledger entry and its audit entry commit together. The same idempotency key records
/// once and answers the first result; a different request under it is a conflict.
pub async fn record(store: &Store, caller: &Caller<'_>, input: &SupportInput) -> Result<Outcome> {
    let org = own_organisation(caller.principal)?;
    crate::organisations::require_active(store, org).await?;
    let new = prepare(store, caller, org, input).await?;
    let mut tx = store.begin().await?;
    if let Some(key) = &new.idempotency_key
        && let Some(first) = store_support::by_idempotency_key(&mut tx, org, key).await?
    {
        drop(tx);
        return replay(store, caller, first, &new).await;
    }
    let recorded = match store_support::insert(&mut tx, &new).await {
        Ok(r) => r,
        Err(hamdeli_store::StoreError::Conflict("support-idempotency-race")) => {
            // Another request with the key committed first: answer as its retry.
            drop(tx);
            let key = new.idempotency_key.clone().unwrap_or_default();
            let mut conn = store.pool().acquire().await?;
            let first = store_support::by_idempotency_key(&mut conn, org, &key)
                .await?
                .ok_or(Error::Conflict("support-idempotency-conflict"))?;
            drop(conn);
            return replay(store, caller, first, &new).await;
        }
        Err(e) => return Err(e.into()),
    };
    audit_write(
        &mut tx,
        caller,
        "support.record",
        "support",
        recorded.id.to_string(),
        serde_json::json!({
            "person": recorded.person_id,
            "organisation": org,
            "kind": recorded.kind,
            "amount": recorded.amount,
            "period": recorded.period,
            "programme": recorded.programme_id,
            "idempotency_key": new.idempotency_key.is_some(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Created(recorded))
}

/// What the person page's form offers a partner: the need types and its organisation's active
/// programmes. `None` for anyone else (the page shows no form).
pub async fn form_options(
    store: &Store,
    caller: &Caller<'_>,
    person: i64,
) -> Result<Option<(Vec<needs::NeedType>, Vec<organisations::Programme>)>> {
    let Ok(org) = own_organisation(caller.principal) else {
        return Ok(None);
    };
    let p = persons::person(store, person)
        .await?
        .ok_or(Error::NotFound)?;
    if !holds(store, org, p.merged_into.unwrap_or(p.id)).await? {
        return Err(Error::NotFound);
    }
    let types = needs::need_types(store)
        .await?
        .into_iter()
        .filter(|t| t.active)
        .collect();
    let programmes = organisations::programmes_of(store, org)
        .await?
        .into_iter()
        .filter(|g| g.active)
        .collect();
    Ok(Some((types, programmes)))
}

/// Recorded support the principal may list, newest first: a partner its organisation's; an
/// office what was recorded for persons of its place. An audited read (names).
pub async fn recorded(
    store: &Store,
    caller: &Caller<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SupportRow>> {
    let p = caller.principal;
    let filter = match own_organisation(p) {
        Ok(org) => PlaceFilter::Organisation(org),
        Err(_) => {
            p.authorize(Action::ManageNeeds)?;
            p.place_filter()
        }
    };
    let rows = store_support::list(store, &filter, before, limit).await?;
    audit_read(
        store,
        caller,
        "support.list",
        "support",
        String::new(),
        serde_json::json!({ "results": rows.len() }),
    )
    .await?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Is this national code in the registry?

/// The answer of the registry check: whether a match exists and which organisations hold it,
/// never a field of anyone's record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// A person with this national code is in the registry.
    pub found: bool,
    /// The caller's own organisation (or office place) holds the person.
    pub held_by_you: bool,
    /// The registry's person id, only when the caller holds the person itself.
    pub person_id: Option<i64>,
    /// The organisations holding a record of the person, by name.
    pub organisations: Vec<Holder>,
}

/// Whether a national code (ASCII digits, checked by the caller) is in the registry, and which
/// organisations hold it. Staff and partners; audited without the code.
pub async fn check_code(store: &Store, caller: &Caller<'_>, code: &str) -> Result<Check> {
    let p = caller.principal;
    p.authorize(Action::SearchRegistry)?;
    let found = store_support::persons_with_code(store, code).await?;
    let filter = p.place_filter();
    let mut yours = vec![];
    for &id in &found {
        if persons::in_scope(store, &filter, id).await? {
            yours.push(id);
        }
    }
    if yours.len() > 1 {
        let carrying = store_support::carrying_code(store, &yours, code).await?;
        if !carrying.is_empty() {
            yours = carrying;
        }
    }
    let organisations = store_support::holders(store, &found).await?;
    let check = Check {
        found: !found.is_empty(),
        held_by_you: !yours.is_empty(),
        person_id: yours.first().copied(),
        organisations,
    };
    audit_read(
        store,
        caller,
        "registry.check",
        "person",
        check.person_id.map(|i| i.to_string()).unwrap_or_default(),
        serde_json::json!({
            "found": check.found,
            "held_by_you": check.held_by_you,
            "organisations": check.organisations.len(),
        }),
    )
    .await?;
    Ok(check)
}

// ---------------------------------------------------------------------------------------------
// A partner's deliveries and its persons served twice (called from the needs use cases)

/// A partner's organisation, when the principal is one (it works with its own campaigns).
pub(crate) fn partner_organisation(p: &Principal) -> Option<i64> {
    match p.place_filter() {
        PlaceFilter::Organisation(org) if p.role == Role::PartnerOrg => Some(org),
        _ => None,
    }
}

/// The allocations of the partner's own campaigns with a status.
pub(crate) async fn partner_allocations(
    store: &Store,
    p: &Principal,
    org: i64,
    status: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<AllocationRow>> {
    p.authorize(Action::ManageCampaign(&CampaignOwner {
        province: None,
        organisation: Some(org),
    }))?;
    Ok(store_support::allocations_of_organisation_after(store, org, status, after, limit).await?)
}

/// Whether the partner delivers this allocation: one of a campaign its organisation owns
/// (the policy's `ManageCampaign`); anything else looks absent.
pub(crate) async fn partner_may_deliver(
    store: &Store,
    p: &Principal,
    allocation: i64,
) -> Result<()> {
    let owner = store_support::allocation_owner(store, allocation)
        .await?
        .ok_or(Error::NotFound)?;
    let campaign = CampaignOwner {
        province: None,
        organisation: owner,
    };
    if owner.is_some() && p.allows(&Action::ManageCampaign(&campaign)) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// People served twice in `period` as the principal may see them: a partner, the persons it
/// holds a record of (providers by name only); an office, its place.
pub(crate) async fn double_rows(
    store: &Store,
    p: &Principal,
    period: &str,
) -> Result<Vec<DoubleService>> {
    match partner_organisation(p) {
        Some(org) => {
            own_organisation(p)?;
            Ok(store_support::double_service_of_organisation(store, org, period).await?)
        }
        None => {
            p.authorize(Action::ManageNeeds)?;
            Ok(distribution::double_service(store, &p.place_filter(), period).await?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn idempotency_keys_are_visible_ascii_up_to_200() {
        assert!(valid_key("a1b2-c3d4"));
        assert!(valid_key(&"k".repeat(200)));
        assert!(!valid_key(""));
        assert!(!valid_key(&"k".repeat(201)));
        assert!(!valid_key("two words"));
        assert!(!valid_key("کلید"));
    }
}
