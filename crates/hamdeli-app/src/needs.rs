//! Needs (capability B): a household's needs identity card, recording a need and changing its
//! status, the need types and priority weights (the national office), the need tables,
//! deliveries, and the served-twice report with its refresh.
//!
//! Scope: a person is worked with when the registry puts it in the principal's scope (as on
//! the person's page); a need, besides, only where it is filed (its province and county, which
//! the need tables and deliveries go by), so nobody records or decides a need that lands in
//! another office's lists. Offices only: a partner organisation, a donor and the others are
//! refused before anything is read — except deliveries and the served-twice report, where a
//! partner works with its own campaigns and the persons it holds a record of
//! ([`crate::support`]).

use std::collections::BTreeMap;

use hamdeli_domain::needs::{Indicator, NeedStatus, Score, Weights, score};
use hamdeli_domain::{Action, PlaceFilter, Principal};
use hamdeli_store::distribution::{self, AllocationRow, DoubleService, Outcome, SupportEntry};
use hamdeli_store::needs::{self, Need, NeedGroup, NeedQuery, NeedTableRow, NeedType, NewNeed};
use hamdeli_store::persons::{self, Household, Member, Person};
use hamdeli_store::{Store, ledger};

use crate::{Caller, Error, Result, audit_read, audit_write};

/// Whether a row filed under this province and county is inside the filter (the rule of the
/// need tables: `n.province_code`, `n.county_code`).
fn filed_in(filter: &PlaceFilter, province: Option<&str>, county: Option<&str>) -> bool {
    match filter {
        PlaceFilter::All => true,
        PlaceFilter::Province(p) => province == Some(p.as_str()),
        PlaceFilter::County(c) => county == Some(c.as_str()),
        PlaceFilter::Organisation(_) | PlaceFilter::Nothing => false,
    }
}

/// A person the principal may work with for needs (outside the scope looks like absent).
async fn needs_person(store: &Store, p: &Principal, id: i64) -> Result<Person> {
    p.authorize(Action::ManageNeeds)?;
    let person = persons::person(store, id).await?.ok_or(Error::NotFound)?;
    if !persons::in_scope(store, &p.place_filter(), person.id).await? {
        return Err(Error::NotFound);
    }
    Ok(person)
}

/// A need the principal may decide: its person in the scope, and the need filed there.
async fn need_in_scope(store: &Store, p: &Principal, id: i64) -> Result<Need> {
    p.authorize(Action::ManageNeeds)?;
    let need = needs::need(store, id).await?.ok_or(Error::NotFound)?;
    needs_person(store, p, need.person_id).await?;
    if !filed_in(
        &p.place_filter(),
        need.province_code.as_deref(),
        need.county_code.as_deref(),
    ) {
        return Err(Error::NotFound);
    }
    Ok(need)
}

// ---------------------------------------------------------------------------------------------
// The needs identity card

/// A household's needs identity card as the principal may see it.
#[derive(Debug, Clone)]
pub struct NeedsCard {
    pub person: Person,
    pub household: Option<(Household, Vec<Member>)>,
    /// The priority score, indicator by indicator.
    pub score: Score,
    /// The household's needs (or the person's, when not in one), newest first.
    pub needs: Vec<Need>,
    /// Every piece of support the person received, from any organisation.
    pub support: Vec<SupportEntry>,
    pub allocations: Vec<AllocationRow>,
}

/// What the card's page shows: the survivor when the person was merged (the caller
/// redirects), or the card.
pub enum CardRead {
    MergedInto(i64),
    Card(Box<NeedsCard>),
}

/// Reads a needs identity card (person in scope; an audited read of personal data).
pub async fn read_card(store: &Store, caller: &Caller<'_>, person: i64) -> Result<CardRead> {
    let found = needs_person(store, caller.principal, person).await?;
    if let Some(to) = found.merged_into {
        return Ok(CardRead::MergedInto(to));
    }
    let household = persons::household_of(store, person).await?;
    let facts = needs::facts_of_person(store, person).await?;
    let weights = needs::weights(store).await?;
    let list = needs::needs_of(store, household.as_ref().map(|h| h.0.id), person).await?;
    let support = distribution::support_of_person(store, person).await?;
    let allocations = distribution::allocations_of_person(store, person).await?;
    audit_read(
        store,
        caller,
        "needs.card.read",
        "person",
        person.to_string(),
        serde_json::json!({ "needs": list.len() }),
    )
    .await?;
    Ok(CardRead::Card(Box::new(NeedsCard {
        person: found,
        household,
        score: score(&facts, &weights),
        needs: list,
        support,
        allocations,
    })))
}

/// Records a need of a person in scope (filed under the household's place, which must be in
/// the scope too); returns its id.
pub async fn record_need(store: &Store, caller: &Caller<'_>, need: &NewNeed) -> Result<i64> {
    let p = caller.principal;
    let person = needs_person(store, p, need.person_id).await?;
    // Where the store will file it: the household's place, else the person's.
    let household = persons::household_of(store, person.id).await?;
    let (province, county) = match &household {
        Some((h, _)) => (
            h.province_code.clone().or(person.province_code.clone()),
            h.county_code.clone().or(person.county_code.clone()),
        ),
        None => (person.province_code.clone(), person.county_code.clone()),
    };
    if !filed_in(&p.place_filter(), province.as_deref(), county.as_deref()) {
        return Err(Error::NotFound);
    }
    let mut tx = store.begin().await?;
    let id = needs::create_need(&mut tx, need, p.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "need.create",
        "need",
        id.to_string(),
        serde_json::json!({
            "person": need.person_id, "type": need.need_type, "amount": need.amount,
            "urgency": need.urgency.code()
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Verifies, closes or reopens a need in scope; returns the need as it was (for its person).
pub async fn change_need_status(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    status: NeedStatus,
) -> Result<Need> {
    let need = need_in_scope(store, caller.principal, id).await?;
    let mut tx = store.begin().await?;
    needs::set_status(&mut tx, id, status, caller.principal.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "need.status",
        "need",
        id.to_string(),
        serde_json::json!({ "from": need.status, "to": status.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(need)
}

// ---------------------------------------------------------------------------------------------
// Need types and priority weights

/// The need types and the published weights (public).
pub async fn published_priority(store: &Store) -> Result<(Weights, Vec<NeedType>)> {
    Ok((
        needs::weights(store).await?,
        needs::need_types(store).await?,
    ))
}

/// Whether the principal edits the need types and the weights (the national office).
pub fn may_configure(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.allows(&Action::ConfigureNeeds))
}

/// Sets priority weights (0–1000 each); the change is audited and enters the transparency log
/// in the same transaction. Nothing changes when one weight is refused.
pub async fn set_weights(
    store: &Store,
    caller: &Caller<'_>,
    changes: &[(Indicator, i64)],
) -> Result<()> {
    let p = caller.principal;
    p.authorize(Action::ConfigureNeeds)?;
    let mut tx = store.begin().await?;
    for (i, w) in changes {
        needs::set_weight(&mut tx, *i, *w, p.user_id).await?;
    }
    let detail = serde_json::json!(
        changes
            .iter()
            .map(|(i, w)| (i.code(), *w))
            .collect::<BTreeMap<_, _>>()
    );
    audit_write(
        &mut tx,
        caller,
        "priority.weights",
        "priority_weights",
        String::new(),
        detail.clone(),
    )
    .await?;
    ledger::append(&mut tx, "priority.weights", &detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds or changes a need type.
pub async fn save_need_type(store: &Store, caller: &Caller<'_>, t: &NeedType) -> Result<()> {
    caller.principal.authorize(Action::ConfigureNeeds)?;
    let mut tx = store.begin().await?;
    needs::save_need_type(&mut tx, t).await?;
    audit_write(
        &mut tx,
        caller,
        "need_type.save",
        "need_type",
        t.code.clone(),
        serde_json::json!({ "name_fa": t.name_fa, "unit": t.unit, "active": t.active }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Need tables

/// Need counts and amounts by group and need type inside the scope (aggregates; not audited).
pub async fn need_table(
    store: &Store,
    caller: &Caller<'_>,
    q: &NeedQuery,
    group: NeedGroup,
) -> Result<Vec<NeedTableRow>> {
    let p = caller.principal;
    p.authorize(Action::ManageNeeds)?;
    Ok(needs::table(store, &p.place_filter(), q, group).await?)
}

/// The need table for a download (audited with its format).
pub async fn export_need_table(
    store: &Store,
    caller: &Caller<'_>,
    q: &NeedQuery,
    group: NeedGroup,
    format: &str,
) -> Result<Vec<NeedTableRow>> {
    let rows = need_table(store, caller, q, group).await?;
    audit_read(
        store,
        caller,
        "needs.export",
        "needs",
        String::new(),
        serde_json::json!({ "format": format, "by": group.code() }),
    )
    .await?;
    Ok(rows)
}

/// Needs in scope matching the filters, most urgent first, with their persons' names (an
/// audited read of personal data).
pub async fn need_list(
    store: &Store,
    caller: &Caller<'_>,
    q: &NeedQuery,
    after: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<Need>> {
    let p = caller.principal;
    p.authorize(Action::ManageNeeds)?;
    let list = needs::list_after(store, &p.place_filter(), q, after, limit).await?;
    audit_read(
        store,
        caller,
        "needs.list",
        "needs",
        String::new(),
        serde_json::json!({ "results": list.len() }),
    )
    .await?;
    Ok(list)
}

// ---------------------------------------------------------------------------------------------
// Deliveries

/// Allocations of the scope with a status (`pending`, `delivered`, `failed`), oldest first (an
/// audited read: recipients' names).
pub async fn deliveries(
    store: &Store,
    caller: &Caller<'_>,
    status: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<AllocationRow>> {
    let p = caller.principal;
    // A partner delivers the allocations of its own organisation's campaigns.
    let rows = match crate::support::partner_organisation(p) {
        Some(org) => {
            crate::support::partner_allocations(store, p, org, status, after, limit).await?
        }
        None => {
            p.authorize(Action::ManageNeeds)?;
            distribution::allocations_after(store, &p.place_filter(), status, after, limit).await?
        }
    };
    audit_read(
        store,
        caller,
        "deliveries.list",
        "allocation",
        String::new(),
        serde_json::json!({ "status": status, "results": rows.len() }),
    )
    .await?;
    Ok(rows)
}

/// Records a delivery or a failure of an allocation in scope, once; the delivery, its entry in
/// the support ledger (under `period_of(now)`, a Jalali year-month) and its audit entry commit
/// together.
pub async fn record_delivery(
    store: &Store,
    caller: &Caller<'_>,
    allocation: i64,
    outcome: &Outcome,
    period_of: fn(i64) -> String,
) -> Result<()> {
    let p = caller.principal;
    if crate::support::partner_organisation(p).is_some() {
        // Only an allocation of a campaign its organisation owns; any other looks absent.
        crate::support::partner_may_deliver(store, p, allocation).await?;
    } else {
        p.authorize(Action::ManageNeeds)?;
        if !distribution::allocation_in_scope(store, &p.place_filter(), allocation).await? {
            return Err(Error::NotFound);
        }
    }
    let (kind, with_code) = match outcome {
        Outcome::Delivered { code, .. } => ("delivered", code.is_some()),
        Outcome::Failed { .. } => ("failed", false),
    };
    let mut tx = store.begin().await?;
    distribution::record_delivery(
        &mut tx,
        allocation,
        outcome,
        &period_of(hamdeli_store::now_millis()),
        p.user_id,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "delivery.record",
        "allocation",
        allocation.to_string(),
        serde_json::json!({ "outcome": kind, "with_code": with_code }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Served twice

/// People of the scope served for one need type by more than one organisation in `period` (a
/// Jalali year or year-month); an audited read (`format` is the download's, if any).
pub async fn double_service(
    store: &Store,
    caller: &Caller<'_>,
    period: &str,
    format: Option<&str>,
) -> Result<Vec<DoubleService>> {
    // A partner sees the persons it holds a record of (crate::support).
    let rows = crate::support::double_rows(store, caller.principal, period).await?;
    audit_read(
        store,
        caller,
        "support.double_service",
        "support_ledger",
        period.to_owned(),
        serde_json::json!({ "rows": rows.len(), "format": format }),
    )
    .await?;
    Ok(rows)
}

/// Brings the organisations' imported support lists into the support ledger (derived rows,
/// once each; `period_of` gives an instant's Jalali year-month); returns how many were added.
///
/// The store runs the sync in a transaction of its own (it takes no caller's), so the audit
/// entry is written in the next one, once the sync has committed.
pub async fn refresh_support(
    store: &Store,
    caller: &Caller<'_>,
    period_of: fn(i64) -> String,
) -> Result<i64> {
    caller.principal.authorize(Action::ManageNeeds)?;
    let added = distribution::sync_imported_support(store, period_of).await?;
    let mut tx = store.begin().await?;
    audit_write(
        &mut tx,
        caller,
        "support.refresh",
        "support_ledger",
        String::new(),
        serde_json::json!({ "added": added }),
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::filed_in;
    use hamdeli_domain::PlaceFilter;

    #[test]
    fn a_need_is_filed_in_a_scope_by_its_own_place() {
        let county = PlaceFilter::County("2301".into());
        assert!(filed_in(&county, Some("23"), Some("2301")));
        assert!(!filed_in(&county, Some("23"), Some("2302")));
        assert!(!filed_in(&county, Some("23"), None));
        let province = PlaceFilter::Province("23".into());
        assert!(filed_in(&province, Some("23"), Some("2302")));
        assert!(!filed_in(&province, Some("10"), Some("1001")));
        assert!(filed_in(&PlaceFilter::All, None, None));
        assert!(!filed_in(
            &PlaceFilter::Organisation(3),
            Some("23"),
            Some("2301")
        ));
        assert!(!filed_in(&PlaceFilter::Nothing, Some("23"), Some("2301")));
    }
}
