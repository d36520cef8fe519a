//! The registry's use cases: search, a person's page, the review queue (read, merge,
//! separate) and splitting a record out of a person.
//!
//! What a partner organisation reads follows from the records it originated, never from what
//! it can claim by uploading: it finds only persons it holds a record of; of such a person it
//! reads its own records in full, and of another organisation's records only that a match
//! exists and with which organisation — more where that organisation's sharing rule says
//! "full". Its view of the person (name, birth date, phone …) is built from the records it
//! may read, and the household (gathered from every organisation) is not shown to it.

use hamdeli_domain::{Action, PlaceFilter, Principal};
use hamdeli_store::coverage::{CoverageRow, GroupBy};
use hamdeli_store::persons::{
    self, Household, Member, MergeRefusal, Person, PersonMerge, Review, SearchQuery, SearchResults,
    SourceRecordView,
};
use hamdeli_store::{Store, sharing};

use crate::{Caller, Error, Result, audit_read, audit_write};

/// Which organisations' records a principal reads in full; `None` is every organisation.
async fn readable_organisations(store: &Store, p: &Principal) -> Result<Option<Vec<i64>>> {
    match p.place_filter() {
        PlaceFilter::Organisation(org) => {
            let mut orgs = sharing::sharing_in_full_with(store, org).await?;
            orgs.push(org);
            Ok(Some(orgs))
        }
        _ => Ok(None),
    }
}

/// A record the principal may not read in full keeps only where it came from.
fn withhold(mut r: SourceRecordView) -> SourceRecordView {
    r.withheld = true;
    r.source_id = String::new();
    r.national_code = None;
    r.national_code_raw = None;
    r.honorific = None;
    r.first_name = None;
    r.last_name = None;
    r.father_name = None;
    r.birth_date = None;
    r.gender = None;
    r.phone = None;
    r.province_code = None;
    r.county_code = None;
    r.address = None;
    r.support_since = None;
    r.row_number = 0;
    r
}

fn first_of(
    records: &[SourceRecordView],
    f: impl Fn(&SourceRecordView) -> &Option<String>,
) -> Option<String> {
    records
        .iter()
        .filter(|r| !r.withheld)
        .filter_map(|r| f(r).clone())
        .find(|v| !v.is_empty())
}

/// The person as the readable records show it.
fn person_from_records(mut person: Person, records: &[SourceRecordView]) -> Person {
    person.national_code = first_of(records, |r| &r.national_code);
    person.first_name = first_of(records, |r| &r.first_name);
    person.last_name = first_of(records, |r| &r.last_name);
    person.father_name = first_of(records, |r| &r.father_name);
    person.birth_date = first_of(records, |r| &r.birth_date);
    person.gender = first_of(records, |r| &r.gender);
    person.phone = first_of(records, |r| &r.phone);
    person.province_code = first_of(records, |r| &r.province_code);
    person.county_code = first_of(records, |r| &r.county_code);
    person.zone = None;
    person
}

/// Registry search inside the principal's scope: one page of hits, best first (the national
/// code or phone, the name as typed, names that sound the same), narrowed by the query's
/// filters (each inside the scope). Audited: the kind of search, the filters used, the page
/// and the count — never the key. A partner reads only the fields of records it may read, and
/// may not filter by household facts it is not shown (zone, female head).
pub async fn search(
    store: &Store,
    caller: &Caller<'_>,
    query: &SearchQuery,
) -> Result<SearchResults> {
    let p = caller.principal;
    p.authorize(Action::SearchRegistry)?;
    let readable = readable_organisations(store, p).await?;
    if readable.is_some() && (query.filters.zone.is_some() || query.filters.female_head) {
        return Err(Error::Denied);
    }
    if let Some(zone) = &query.filters.zone
        && !matches!(zone.as_str(), "urban" | "rural")
    {
        return Err(Error::Invalid("search-zone-invalid"));
    }
    let mut results = persons::search(store, &p.place_filter(), query).await?;
    if let Some(orgs) = readable {
        for hit in &mut results.hits {
            let records = records_for(store, hit.id, Some(&orgs)).await?;
            hit.national_code = first_of(&records, |r| &r.national_code);
            hit.first_name = first_of(&records, |r| &r.first_name);
            hit.last_name = first_of(&records, |r| &r.last_name);
            hit.father_name = first_of(&records, |r| &r.father_name);
            hit.birth_date = first_of(&records, |r| &r.birth_date);
            hit.province_code = first_of(&records, |r| &r.province_code);
            hit.county_code = first_of(&records, |r| &r.county_code);
        }
    }
    audit_read(
        store,
        caller,
        "registry.search",
        "search",
        String::new(),
        serde_json::json!({
            "kind": query.kind(),
            "filters": query.filters.names(),
            "page": results.page,
            "results": results.hits.len(),
        }),
    )
    .await?;
    Ok(results)
}

/// What the registry's search page shows around its hits: the organisations its filter
/// offers and the registry's counts inside the principal's scope.
#[derive(Debug, Clone)]
pub struct SearchPageFacts {
    pub organisations: Vec<hamdeli_store::organisations::Organisation>,
    pub counts: persons::RegistryCounts,
}

/// The search page's filter choices and counts; refused unless the principal may search. The
/// organisation filter offers the organisations whose records the principal reads: every one
/// for the offices, for a partner its own and those sharing in full with it.
pub async fn search_page_facts(store: &Store, caller: &Caller<'_>) -> Result<SearchPageFacts> {
    let p = caller.principal;
    p.authorize(Action::SearchRegistry)?;
    let all = hamdeli_store::organisations::list(store, &PlaceFilter::All).await?;
    let organisations = match readable_organisations(store, p).await? {
        None => all,
        Some(readable) => all
            .into_iter()
            .filter(|o| readable.contains(&o.id))
            .collect(),
    };
    Ok(SearchPageFacts {
        organisations,
        counts: persons::counts(store, &p.place_filter()).await?,
    })
}

async fn records_for(
    store: &Store,
    person: i64,
    readable: Option<&[i64]>,
) -> Result<Vec<SourceRecordView>> {
    let records = persons::records_of(store, person).await?;
    Ok(match readable {
        None => records,
        Some(orgs) => records
            .into_iter()
            .map(|r| {
                if orgs.contains(&r.organisation_id) {
                    r
                } else {
                    withhold(r)
                }
            })
            .collect(),
    })
}

/// The person if the principal may read it (outside the scope looks the same as absent).
pub(crate) async fn person_in_scope(store: &Store, p: &Principal, id: i64) -> Result<Person> {
    p.authorize(Action::SearchRegistry)?;
    let person = persons::person(store, id).await?.ok_or(Error::NotFound)?;
    if !persons::in_scope(store, &p.place_filter(), person.id).await? {
        return Err(Error::NotFound);
    }
    Ok(person)
}

/// A person as the principal may see it.
#[derive(Debug, Clone)]
pub struct PersonView {
    pub person: Person,
    /// Every record linked to the person: in full, or `withheld` (only its organisation and list).
    pub records: Vec<SourceRecordView>,
    /// The household, for offices only.
    pub household: Option<(Household, Vec<Member>)>,
    /// True when some records are withheld from this principal.
    pub partial: bool,
    /// Merges into this person a user made and may undo (for those who review links).
    pub merges: Vec<PersonMerge>,
    /// The household's priority score under the published weights: read by [`person_card`]
    /// for offices only (it reads the household, which a partner does not see); `None` from
    /// [`read_person`], for partners and when records are withheld.
    pub score: Option<hamdeli_domain::needs::Score>,
}

/// What a person's page shows: found in scope, followed to the survivor when merged (the
/// caller redirects), audited.
pub enum PersonRead {
    MergedInto(i64),
    Person(Box<PersonView>),
}

pub async fn read_person(store: &Store, caller: &Caller<'_>, id: i64) -> Result<PersonRead> {
    read_person_as(store, caller, id, false).await
}

/// The person's page: [`read_person`] and, for an office reading every record, the household's
/// priority score (its facts read only once the person was found in the principal's scope).
pub async fn person_card(store: &Store, caller: &Caller<'_>, id: i64) -> Result<PersonRead> {
    read_person_as(store, caller, id, true).await
}

async fn read_person_as(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    with_score: bool,
) -> Result<PersonRead> {
    let p = caller.principal;
    let person = person_in_scope(store, p, id).await?;
    if let Some(to) = person.merged_into {
        return Ok(PersonRead::MergedInto(to));
    }
    let readable = readable_organisations(store, p).await?;
    let records = records_for(store, id, readable.as_deref()).await?;
    let partial = records.iter().any(|r| r.withheld);
    let (person, household) = if readable.is_some() {
        (person_from_records(person, &records), None)
    } else {
        (person, persons::household_of(store, id).await?)
    };
    audit_read(
        store,
        caller,
        "person.read",
        "person",
        id.to_string(),
        serde_json::json!({ "records": records.len(), "withheld": records.iter().filter(|r| r.withheld).count() }),
    )
    .await?;
    let merges = if p.allows(&Action::ReviewLinks) {
        persons::merges_into(store, id).await?
    } else {
        Vec::new()
    };
    // The score reads the household: offices only (a partner does not see the household).
    let score = if with_score && !partial && p.scope.organisation().is_none() {
        let facts = hamdeli_store::needs::facts_of_person(store, id).await?;
        let weights = hamdeli_store::needs::weights(store).await?;
        Some(hamdeli_domain::needs::score(&facts, &weights))
    } else {
        None
    };
    Ok(PersonRead::Person(Box::new(PersonView {
        person,
        records,
        household,
        partial,
        merges,
        score,
    })))
}

/// A review with both its records; only when both records' persons are in the scope.
#[derive(Debug, Clone)]
pub struct ReviewView {
    pub review: Review,
    pub a: SourceRecordView,
    pub b: SourceRecordView,
}

async fn review_in_scope(store: &Store, p: &Principal, id: i64) -> Result<ReviewView> {
    p.authorize(Action::ReviewLinks)?;
    let review = persons::review_by_id(store, id)
        .await?
        .ok_or(Error::NotFound)?;
    let filter = p.place_filter();
    for record in [review.record_a, review.record_b] {
        let Some(person) = persons::person_of(store, record).await? else {
            return Err(Error::NotFound);
        };
        if !persons::in_scope(store, &filter, person).await? {
            return Err(Error::NotFound);
        }
    }
    let a = persons::record(store, review.record_a)
        .await?
        .ok_or(Error::NotFound)?;
    let b = persons::record(store, review.record_b)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(ReviewView { review, a, b })
}

/// Reviews of the principal's scope (both sides inside it), most probable first.
pub async fn reviews(
    store: &Store,
    caller: &Caller<'_>,
    status: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<(Vec<ReviewView>, i64)> {
    let p = caller.principal;
    p.authorize(Action::ReviewLinks)?;
    let filter = p.place_filter();
    let page = persons::reviews_after(store, &filter, status, after, limit).await?;
    let ids: Vec<i64> = page.iter().flat_map(|r| [r.record_a, r.record_b]).collect();
    let records = persons::records_by_id(store, &ids).await?;
    let mut out = Vec::with_capacity(page.len());
    for review in page {
        if let (Some(a), Some(b)) = (
            records.get(&review.record_a).cloned(),
            records.get(&review.record_b).cloned(),
        ) {
            out.push(ReviewView { review, a, b });
        }
    }
    let open = persons::review_count(store, &filter, "open").await?;
    audit_read(
        store,
        caller,
        "review.list",
        "link_review",
        String::new(),
        serde_json::json!({ "status": status, "results": out.len() }),
    )
    .await?;
    Ok((out, open))
}

pub async fn read_review(store: &Store, caller: &Caller<'_>, id: i64) -> Result<ReviewView> {
    let view = review_in_scope(store, caller.principal, id).await?;
    audit_read(
        store,
        caller,
        "review.read",
        "link_review",
        id.to_string(),
        serde_json::json!({ "records": [view.review.record_a, view.review.record_b] }),
    )
    .await?;
    Ok(view)
}

/// Merges the two persons of a review; refused unless both are in the scope.
pub async fn merge(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
) -> Result<std::result::Result<i64, MergeRefusal>> {
    let view = review_in_scope(store, caller.principal, id).await?;
    let mut tx = store.begin().await?;
    match persons::merge_review(&mut tx, &view.review, caller.principal.user_id).await? {
        Ok(person) => {
            audit_write(
                &mut tx,
                caller,
                "review.merge",
                "link_review",
                id.to_string(),
                serde_json::json!({
                    "records": [view.review.record_a, view.review.record_b], "person": person
                }),
            )
            .await?;
            tx.commit().await?;
            Ok(Ok(person))
        }
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// Marks a review's two records as different people; refused unless both are in the scope.
/// False when the review was already decided.
pub async fn separate(store: &Store, caller: &Caller<'_>, id: i64) -> Result<bool> {
    let view = review_in_scope(store, caller.principal, id).await?;
    let mut tx = store.begin().await?;
    let done = persons::separate_review(&mut tx, &view.review, caller.principal.user_id).await?;
    if !done {
        return Ok(false);
    }
    audit_write(
        &mut tx,
        caller,
        "review.separate",
        "link_review",
        id.to_string(),
        serde_json::json!({ "records": [view.review.record_a, view.review.record_b] }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Takes one record out of a person into a person of its own; returns the new person.
pub async fn split(store: &Store, caller: &Caller<'_>, person: i64, record: i64) -> Result<i64> {
    let p = caller.principal;
    p.authorize(Action::ReviewLinks)?;
    person_in_scope(store, p, person).await?;
    let r = persons::record(store, record)
        .await?
        .ok_or(Error::NotFound)?;
    if r.person_id != Some(person) {
        return Err(Error::Invalid("split-record-not-of-person"));
    }
    let mut tx = store.begin().await?;
    let Some(new_person) = persons::split_record(&mut tx, record, p.user_id).await? else {
        return Err(Error::Invalid("split-only-record"));
    };
    audit_write(
        &mut tx,
        caller,
        "person.split",
        "person",
        person.to_string(),
        serde_json::json!({ "record": record, "new_person": new_person }),
    )
    .await?;
    tx.commit().await?;
    Ok(new_person)
}

// ---------------------------------------------------------------------------------------------
// Merging two persons a user picked, and undoing it

/// Two persons side by side before a merge, both in the scope and not merged away.
#[derive(Debug, Clone)]
pub struct MergePreview {
    pub a: Person,
    pub a_records: Vec<SourceRecordView>,
    pub b: Person,
    pub b_records: Vec<SourceRecordView>,
    /// Why the merge would be refused, if it would.
    pub refusal: Option<MergeRefusal>,
}

/// A person the reviewer may merge: in the scope (absent otherwise) and not merged away.
async fn mergeable(store: &Store, p: &Principal, id: i64) -> Result<Person> {
    p.authorize(Action::ReviewLinks)?;
    let person = person_in_scope(store, p, id).await?;
    if person.merged_into.is_some() {
        return Err(Error::Conflict("merge-person-merged-away"));
    }
    Ok(person)
}

/// The two persons a user picked to merge, with every record (for the evidence); refused
/// unless both are in the scope. Audited as a read of both.
pub async fn merge_preview(
    store: &Store,
    caller: &Caller<'_>,
    a: i64,
    b: i64,
) -> Result<MergePreview> {
    let p = caller.principal;
    if a == b {
        return Err(Error::Invalid("merge-same-person"));
    }
    let pa = mergeable(store, p, a).await?;
    let pb = mergeable(store, p, b).await?;
    let a_records = persons::records_of(store, a).await?;
    let b_records = persons::records_of(store, b).await?;
    let codes: std::collections::BTreeSet<&str> = a_records
        .iter()
        .chain(&b_records)
        .filter_map(|r| r.national_code.as_deref())
        .collect();
    let refusal = (codes.len() > 1).then_some(MergeRefusal::DifferentNationalCodes);
    audit_read(
        store,
        caller,
        "person.merge_preview",
        "person",
        a.to_string(),
        serde_json::json!({ "with": b }),
    )
    .await?;
    Ok(MergePreview {
        a: pa,
        a_records,
        b: pb,
        b_records,
        refusal,
    })
}

/// Merges two persons the user picked into one (the older id stays), audited in the same
/// transaction; refused unless both are in the scope, and (as a review's merge) for two
/// different national codes or records a reviewer separated.
pub async fn merge_persons(
    store: &Store,
    caller: &Caller<'_>,
    a: i64,
    b: i64,
) -> Result<std::result::Result<PersonMerge, MergeRefusal>> {
    let p = caller.principal;
    if a == b {
        return Err(Error::Invalid("merge-same-person"));
    }
    mergeable(store, p, a).await?;
    mergeable(store, p, b).await?;
    let mut tx = store.begin().await?;
    let merge = match persons::merge_two_persons(&mut tx, a, b, p.user_id).await? {
        Ok(merge) => merge,
        Err(refusal) => return Ok(Err(refusal)),
    };
    audit_write(
        &mut tx,
        caller,
        "person.merge",
        "person",
        merge.keep_person.to_string(),
        serde_json::json!({
            "merge": merge.id, "merged": merge.gone_person, "records": merge.records,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(merge))
}

/// Splits a merge back into the two persons it was; both must be in the scope. Audited.
pub async fn undo_merge(store: &Store, caller: &Caller<'_>, merge: i64) -> Result<PersonMerge> {
    let p = caller.principal;
    p.authorize(Action::ReviewLinks)?;
    let found = persons::person_merge_by_id(store, merge)
        .await?
        .ok_or(Error::NotFound)?;
    person_in_scope(store, p, found.keep_person).await?;
    person_in_scope(store, p, found.gone_person).await?;
    let mut tx = store.begin().await?;
    let undone = persons::undo_person_merge(&mut tx, merge, p.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "person.merge_undo",
        "person",
        undone.keep_person.to_string(),
        serde_json::json!({
            "merge": undone.id, "restored": undone.gone_person, "records": undone.records,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(undone)
}

/// Who reads the coverage report, for its audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageVia<'a> {
    /// The web page (counts only; not audited, as before).
    Page,
    /// A download of the report (`csv` or `xlsx`), audited as `coverage.export`.
    Download(&'a str),
    /// The JSON API (counts only; not audited, as before).
    Api,
}

/// The coverage report as read: the grouping used and its rows inside the principal's scope.
#[derive(Debug, Clone)]
pub struct CoverageReport {
    pub by: GroupBy,
    pub rows: Vec<CoverageRow>,
}

/// The grouping of the report when none is asked: provinces for a national principal looking
/// at the whole country, counties otherwise (one province, or a narrower scope).
fn default_coverage_group(p: &Principal, province: Option<&str>) -> GroupBy {
    match p.place_filter() {
        PlaceFilter::All if province.is_none() => GroupBy::Province,
        _ => GroupBy::County,
    }
}

/// The coverage report: persons by number of covering organisations, same-kind double coverage
/// and uncovered female heads of household, by province, county or zone, of one province when
/// asked, inside the principal's scope. The page, its downloads and the API read it here.
/// Refused unless the principal sees coverage (403), before the grouping is looked at.
/// `by` absent: provinces for the API; for the page the level the principal's scope suggests.
/// `by` unknown: the API refuses it (`coverage-group`, 400), the page takes the default.
/// A download is audited (`coverage.export`: the grouping, format and province); the page and
/// the API show counts only and are not.
pub async fn coverage(
    store: &Store,
    caller: &Caller<'_>,
    by: Option<&str>,
    province: Option<&str>,
    via: CoverageVia<'_>,
) -> Result<CoverageReport> {
    let p = caller.principal;
    p.authorize(Action::ViewCoverage)?;
    let asked = match (by.map(|b| (b, GroupBy::parse(b))), via) {
        (Some((_, None)), CoverageVia::Api) => return Err(Error::Invalid("coverage-group")),
        (Some((_, g)), _) => g,
        (None, _) => None,
    };
    let by = match (asked, via) {
        (Some(g), _) => g,
        (None, CoverageVia::Api) => GroupBy::Province,
        (None, _) => default_coverage_group(p, province),
    };
    let rows = hamdeli_store::coverage::report(store, &p.place_filter(), by, province).await?;
    if let CoverageVia::Download(format) = via {
        audit_read(
            store,
            caller,
            "coverage.export",
            "coverage",
            by.as_str().to_owned(),
            serde_json::json!({ "format": format, "province": province }),
        )
        .await?;
    }
    Ok(CoverageReport { by, rows })
}

/// The most rows of one outreach page (the API's `limit` and the downloads).
pub const OUTREACH_MAX_ROWS: i64 = 5000;

/// Who reads an outreach list, for its audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutreachVia<'a> {
    /// The web page, a page at a time.
    Page,
    /// A download of the list (`csv` or `xlsx`).
    Download(&'a str),
    /// The JSON API, a page at a time.
    Api,
}

/// One page of a county's outreach list.
#[derive(Debug, Clone)]
pub struct OutreachPage {
    pub county: hamdeli_store::geo::County,
    pub rows: Vec<hamdeli_store::coverage::OutreachRow>,
    /// The next page's `after` (the last row's person), when there is one.
    pub next: Option<i64>,
}

/// A county's female heads of household covered by no organisation, in name order: one page of
/// at most `limit` rows (1 to [`OUTREACH_MAX_ROWS`]) after the person `after`, and the key of
/// the next page. The page, its downloads and the API read it here. Refused unless the
/// principal sees coverage and the county is inside its scope (403); an unknown county is 404.
/// Audited: the county, the rows read, how and from where in the list.
pub async fn outreach(
    store: &Store,
    caller: &Caller<'_>,
    county: &str,
    after: Option<i64>,
    limit: i64,
    via: OutreachVia<'_>,
) -> Result<OutreachPage> {
    let p = caller.principal;
    p.authorize(Action::ViewCoverage)?;
    let c = hamdeli_store::geo::county(store, county)
        .await?
        .ok_or(Error::NotFound)?;
    p.authorize(Action::ViewPlace(&hamdeli_domain::Place::county(
        &c.province_code,
        &c.code,
    )))?;
    let limit = limit.clamp(1, OUTREACH_MAX_ROWS);
    let mut rows =
        hamdeli_store::coverage::outreach(store, &p.place_filter(), &c.code, after, limit + 1)
            .await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.person_id)
    } else {
        None
    };
    let mut detail = serde_json::json!({ "persons": rows.len() });
    match via {
        OutreachVia::Page => detail["format"] = serde_json::Value::Null,
        OutreachVia::Download(format) => detail["format"] = format.into(),
        OutreachVia::Api => detail["api"] = true.into(),
    }
    if let Some(a) = after {
        detail["after"] = a.into();
    }
    audit_read(
        store,
        caller,
        "coverage.outreach",
        "county",
        c.code.clone(),
        detail,
    )
    .await?;
    Ok(OutreachPage {
        county: c,
        rows,
        next,
    })
}
