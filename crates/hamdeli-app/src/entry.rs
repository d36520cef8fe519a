//! People and households entered by hand (issue 12, deliverable 2): the offices of a county (the
//! county expert, the provincial officer of its province, the national admin) register a person
//! or a household with the same validation as imports (`hamdeli_ingest::validate`: national
//! code check digit, mobile, birth date in any digit script), see beforehand whether the person
//! is already in the registry and on which organisations' lists, and edit what was entered with
//! its history kept.
//!
//! A hand-entered person is a source record of the office's "manual entry" list of the county
//! (`hamdeli_store::entry`): a national code already in the registry joins that person, a new
//! one makes a new person, in the same transaction as the audit entry. Where the import turns a
//! doubtful value into a warning, a form refuses it (the person is there to correct it).

use hamdeli_domain::{Action, Place, Principal, Role};
use hamdeli_ingest::facts;
use hamdeli_ingest::{Field, InputRecord, validate};
use hamdeli_store::entry::{self, Edit, Entered, HouseholdFields, ListLine, RecordEdit};
use hamdeli_store::persons::{self, Person, PersonHit, SearchQuery};
use hamdeli_store::registry::NewSourceRecord;
use hamdeli_store::{Store, geo};

use crate::{Caller, Error, Result, audit_write};

/// The relations to the head a household form offers.
pub const RELATIONS: [&str; 5] = ["head", "spouse", "child", "parent", "other"];
/// Why a woman heads her household.
pub const FEMALE_HEAD_REASONS: [&str; 5] = [
    "widowed",
    "divorced",
    "spouse_absent",
    "spouse_incapacitated",
    "never_married",
];
/// Members a household form takes at most.
pub const MAX_MEMBERS: usize = 20;
/// Age from which a member makes the household's "elderly" indicator.
const ELDERLY_AGE: i32 = 60;

/// A person as typed into a form (any digit script).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonInput {
    pub national_code: String,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub birth_date: String,
    /// `female`, `male` or empty.
    pub gender: String,
    pub phone: String,
    pub address: String,
}

impl PersonInput {
    fn has_names(&self) -> bool {
        !(self.first_name.trim().is_empty() && self.last_name.trim().is_empty())
    }
}

/// What a form refuses: the field (as the form names it) and a message code (`problem-…` in
/// the catalog: `national_code.bad_check_digit`, `entry.name_required` …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub code: &'static str,
}

fn refuse(field: impl Into<String>, code: &'static str) -> Refusal {
    Refusal {
        field: field.into(),
        code,
    }
}

/// Whether the principal enters persons by hand anywhere (the links to the forms).
pub fn may_enter(p: &Principal) -> bool {
    matches!(
        p.role,
        Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
    )
}

/// The county (with its province) if it exists and the principal may enter persons into it.
async fn county_place(store: &Store, p: &Principal, county: &str) -> Result<Option<Place>> {
    if !may_enter(p) {
        return Err(Error::Denied);
    }
    let Some(c) = geo::county(store, county.trim()).await? else {
        return Ok(None);
    };
    let place = Place::county(c.province_code, c.code);
    p.authorize(Action::EnterPerson(&place))?;
    Ok(Some(place))
}

/// The counties the principal may enter persons into, for the form's choices.
pub async fn counties(store: &Store, caller: &Caller<'_>) -> Result<Vec<geo::County>> {
    let p = caller.principal;
    if !may_enter(p) {
        return Err(Error::Denied);
    }
    Ok(geo::all_counties(store)
        .await?
        .into_iter()
        .filter(|c| {
            p.allows(&Action::EnterPerson(&Place::county(
                c.province_code.clone(),
                c.code.clone(),
            )))
        })
        .collect())
}

/// A form's person typed and checked as an import row is, every doubt refused. `field` prefixes
/// the form's field names (`m0.` for a household's first member).
fn typed(
    input: &PersonInput,
    prefix: &str,
    refusals: &mut Vec<Refusal>,
) -> Option<NewSourceRecord> {
    let before = refusals.len();
    let field = |name: &str| format!("{prefix}{name}");
    if input.national_code.trim().is_empty() {
        refusals.push(refuse(field("national_code"), "national_code.empty"));
    }
    if input.first_name.trim().is_empty() || input.last_name.trim().is_empty() {
        refusals.push(refuse(field("name"), "entry.name_required"));
    }
    let mut rec = InputRecord::default();
    rec.set(Field::NationalCode, &input.national_code);
    rec.set(Field::FirstName, &input.first_name);
    rec.set(Field::LastName, &input.last_name);
    rec.set(Field::FatherName, &input.father_name);
    rec.set(Field::BirthDate, &input.birth_date);
    rec.set(Field::Gender, &input.gender);
    rec.set(Field::Phone, &input.phone);
    rec.set(Field::Address, &input.address);
    let (clean, warnings) = match validate(rec) {
        Ok(v) => v,
        Err(reject) => {
            if refusals.len() == before {
                refusals.push(refuse(field("national_code"), reject.code));
            }
            return None;
        }
    };
    for w in warnings {
        let name = match w.field {
            Field::NationalCode if w.code == "national_code.padded" => continue,
            Field::NationalCode => "national_code",
            Field::BirthDate => "birth_date",
            Field::Gender => "gender",
            Field::Phone => "phone",
            _ => continue,
        };
        if !refusals.iter().any(|r| r.field == field(name)) {
            refusals.push(refuse(field(name), w.code));
        }
    }
    if refusals.len() > before {
        return None;
    }
    let national_code = clean.national_code.clone()?;
    Some(NewSourceRecord {
        source_id: entry::manual_source_id(&national_code),
        row_number: 1,
        national_code: Some(national_code),
        national_code_raw: None,
        honorific: clean.honorific,
        first_name: clean.first_name,
        last_name: clean.last_name,
        father_name: clean.father_name,
        first_key: clean.first_key,
        last_key: clean.last_key,
        father_key: clean.father_key,
        birth_date: clean.birth.and_then(|b| b.iso()).map(|d| d.to_string()),
        birth_year_jalali: clean.birth.and_then(|b| b.jalali_year()).map(i64::from),
        gender: clean.gender.map(|g| g.as_str().to_owned()),
        phone: clean.phone,
        address: clean.address,
        ..NewSourceRecord::default()
    })
}

/// The office's manual-entry list of the place, in the transaction.
async fn manual_list(
    store: &Store,
    tx: &mut hamdeli_store::Tx,
    place: &Place,
    by: Option<i64>,
) -> Result<i64> {
    let county = place.county.as_deref().unwrap_or_default();
    let name = geo::county(store, county)
        .await?
        .map(|c| c.name_fa)
        .unwrap_or_else(|| county.to_owned());
    let office = entry::office_of(tx, &place.province)
        .await?
        .ok_or(Error::Conflict("entry-no-office"))?;
    let list = entry::manual_list(tx, office, &place.province, county, &name, by).await?;
    Ok(list.id)
}

fn zone_of(s: &str) -> Option<&'static str> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    ["urban", "rural"]
        .into_iter()
        .find(|z| *z == s)
        .or_else(|| facts::parse_zone(s))
}

fn code_of(
    s: &str,
    codes: &[&'static str],
    parse: fn(&str) -> Option<&'static str>,
) -> Option<&'static str> {
    let s = s.trim();
    codes.iter().copied().find(|c| *c == s).or_else(|| parse(s))
}

// ---------------------------------------------------------------------------------------------
// The duplicate check

/// A person already in the registry that a form's person may be: the search hit, the lists it
/// is on (which organisations) and its household.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub hit: PersonHit,
    pub lists: Vec<ListLine>,
    pub household: Option<i64>,
}

/// Hits of the duplicate check, at most.
const CANDIDATES: usize = 10;

/// Whether this person is already in the registry, inside the principal's scope: by national
/// code and by name (the registry search, audited as searches), each hit with the lists it is on.
pub async fn check(
    store: &Store,
    caller: &Caller<'_>,
    input: &PersonInput,
) -> Result<Vec<Candidate>> {
    let p = caller.principal;
    if !may_enter(p) {
        return Err(Error::Denied);
    }
    let mut queries: Vec<SearchQuery> = Vec::new();
    if let Some(q) = hamdeli_registry::search::parse_query(&input.national_code)
        .filter(|q| q.national_code.is_some() && q.words.is_empty())
    {
        queries.push(q);
    }
    let name = format!("{} {}", input.first_name.trim(), input.last_name.trim());
    if !input.first_name.trim().is_empty()
        && !input.last_name.trim().is_empty()
        && let Some(q) = hamdeli_registry::search::parse_query(&name)
            .filter(|q| q.national_code.is_none() && q.phone.is_none())
    {
        queries.push(q);
    }
    let mut out: Vec<Candidate> = Vec::new();
    for q in &queries {
        let results = crate::registry::search(store, caller, q).await?;
        for hit in results.hits {
            if out.len() >= CANDIDATES {
                break;
            }
            if out.iter().any(|c| c.hit.id == hit.id) {
                continue;
            }
            let lists = entry::lists_of_person(store, hit.id).await?;
            let mut conn = store.pool().acquire().await?;
            let household = entry::household_id_of(&mut conn, hit.id).await?;
            out.push(Candidate {
                hit,
                lists,
                household,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// A person

/// Registers one person by hand into a county (in the principal's scope), optionally with the
/// zone they live in. Refused input comes back as refusals and nothing is written.
pub async fn register_person(
    store: &Store,
    caller: &Caller<'_>,
    county: &str,
    zone: &str,
    input: &PersonInput,
) -> Result<std::result::Result<Entered, Vec<Refusal>>> {
    let p = caller.principal;
    let mut refusals = Vec::new();
    let place = county_place(store, p, county).await?;
    if place.is_none() {
        refusals.push(refuse("county", "entry.county_required"));
    }
    let zone = zone_of(zone);
    let rec = typed(input, "", &mut refusals);
    let (Some(place), Some(mut rec), true) = (place, rec, refusals.is_empty()) else {
        return Ok(Err(refusals));
    };
    rec.province_code = Some(place.province.clone());
    rec.county_code = place.county.clone();
    rec.zone = zone.map(str::to_owned);
    let mut tx = store.begin().await?;
    let list = manual_list(store, &mut tx, &place, p.user_id).await?;
    if entry::record_in_list(&mut tx, list, &rec.source_id)
        .await?
        .is_some()
    {
        return Ok(Err(vec![refuse("national_code", "entry.already_entered")]));
    }
    let code = rec.national_code.clone().unwrap_or_default();
    let existing = entry::person_with_code(&mut tx, &code).await?;
    let batch = entry::open_batch(&mut tx, list, 1, p.user_id).await?;
    let entered = entry::insert_record(&mut tx, list, batch, &rec, existing).await?;
    audit_write(
        &mut tx,
        caller,
        "person.enter",
        "person",
        entered.person.to_string(),
        serde_json::json!({
            "record": entered.record, "batch": batch, "list": list,
            "joined": !entered.new_person,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(entered))
}

// ---------------------------------------------------------------------------------------------
// A household

/// A household member as typed: a person and the relation to the head. An existing person is
/// given by national code alone (no names): it joins as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberInput {
    pub person: PersonInput,
    pub relation: String,
}

/// A household's facts as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdInput {
    pub county: String,
    pub zone: String,
    pub address: String,
    pub female_head: bool,
    pub female_head_reason: String,
    /// Tomans a month, any digit script, with or without separators.
    pub monthly_income: String,
    pub income_decile: String,
    /// Empty: the members other than the head.
    pub dependants: String,
    pub disability: bool,
    pub chronic_illness: bool,
    pub bereaved_by_covid: bool,
}

/// What registering a household did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdSaved {
    pub household: i64,
    pub head: i64,
    /// Every member's person, in the form's order.
    pub members: Vec<i64>,
    pub new_persons: usize,
}

/// The current Gregorian year (for the "elderly" indicator; a day's error at new year is fine).
fn current_year() -> i32 {
    let days = hamdeli_store::now_millis() / 86_400_000;
    1970 + (days as f64 / 365.2425) as i32
}

/// A household's facts typed and checked. `members` are the members' (relation, gender, birth
/// year) as far as they are known.
fn household_fields(
    place: &Place,
    input: &HouseholdInput,
    members: &[(&'static str, Option<String>, Option<i32>)],
    refusals: &mut Vec<Refusal>,
) -> HouseholdFields {
    let zone = zone_of(&input.zone);
    if zone.is_none() {
        refusals.push(refuse("zone", "entry.zone_required"));
    }
    let reason = if input.female_head {
        let r = code_of(
            &input.female_head_reason,
            &FEMALE_HEAD_REASONS,
            facts::parse_female_head_reason,
        );
        if r.is_none() {
            refusals.push(refuse(
                "female_head_reason",
                "entry.female_head_reason_required",
            ));
        }
        if members
            .iter()
            .any(|(rel, gender, _)| *rel == "head" && gender.as_deref() == Some("male"))
        {
            refusals.push(refuse("female_head", "entry.female_head_not_female"));
        }
        r
    } else {
        None
    };
    let monthly_income = match input.monthly_income.trim() {
        "" => None,
        s => {
            let v = facts::parse_amount(s, true);
            if v.is_none() {
                refusals.push(refuse("monthly_income", "entry.income_unreadable"));
            }
            v
        }
    };
    let income_decile = match input.income_decile.trim() {
        "" => None,
        s => {
            let v = facts::parse_decile(s);
            if v.is_none() {
                refusals.push(refuse("income_decile", "entry.decile_invalid"));
            }
            v
        }
    };
    let dependants = match input.dependants.trim() {
        "" => members.len().saturating_sub(1) as i64,
        s => facts::parse_count(s).unwrap_or_else(|| {
            refusals.push(refuse("dependants", "entry.dependants_unreadable"));
            0
        }),
    };
    let year = current_year();
    HouseholdFields {
        province_code: place.province.clone(),
        county_code: place.county.clone().unwrap_or_default(),
        zone: zone.unwrap_or_default().to_owned(),
        address: Some(input.address.trim().to_owned()).filter(|s| !s.is_empty()),
        female_head: input.female_head,
        female_head_reason: reason.map(str::to_owned),
        monthly_income,
        income_decile,
        dependants,
        disability: input.disability,
        chronic_illness: input.chronic_illness,
        elderly: members
            .iter()
            .any(|(_, _, y)| y.is_some_and(|y| year - y >= ELDERLY_AGE)),
        bereaved_by_covid: input.bereaved_by_covid,
    }
}

/// One member of a household being registered, as decided before the write.
enum Planned {
    /// A person already in the registry, in the scope, given by code alone.
    Existing(i64),
    /// A new record (joining the person its code belongs to, if any).
    Record(Box<NewSourceRecord>),
}

/// Registers a household by hand: its facts and its members (each a person already in the
/// registry, given by national code alone, or typed in full — a code already in the registry
/// joins that person), exactly one of them the head. Refused input comes back as refusals and
/// nothing is written.
pub async fn register_household(
    store: &Store,
    caller: &Caller<'_>,
    input: &HouseholdInput,
    members: &[MemberInput],
) -> Result<std::result::Result<HouseholdSaved, Vec<Refusal>>> {
    let p = caller.principal;
    let mut refusals = Vec::new();
    let place = county_place(store, p, &input.county).await?;
    if place.is_none() {
        refusals.push(refuse("county", "entry.county_required"));
    }
    if members.is_empty() || members.len() > MAX_MEMBERS {
        refusals.push(refuse("members", "entry.members_required"));
    }
    let filter = p.place_filter();
    let mut planned: Vec<(Planned, &'static str)> = Vec::new();
    let mut traits: Vec<(&'static str, Option<String>, Option<i32>)> = Vec::new();
    let mut codes: Vec<String> = Vec::new();
    let mut heads = 0;
    for (i, m) in members.iter().enumerate() {
        let prefix = format!("m{i}.");
        let relation = code_of(&m.relation, &RELATIONS, facts::parse_relation);
        if relation.is_none() {
            refusals.push(refuse(
                format!("{prefix}relation"),
                "entry.relation_unknown",
            ));
        }
        let relation = relation.unwrap_or("other");
        heads += usize::from(relation == "head");
        if !m.person.has_names() {
            // An existing person, by national code alone.
            let code = hamdeli_registry::search::parse_query(&m.person.national_code)
                .and_then(|q| q.national_code)
                .filter(|c| c.len() == 10);
            let mut conn = store.pool().acquire().await?;
            let found = match &code {
                Some(c) => entry::person_with_code(&mut conn, c).await?,
                None => None,
            };
            drop(conn);
            let found = match found {
                Some(id) if persons::in_scope(store, &filter, id).await? => Some(id),
                _ => None,
            };
            match (found, code) {
                (Some(id), Some(code)) => {
                    if codes.contains(&code) {
                        refusals.push(refuse(
                            format!("{prefix}national_code"),
                            "entry.member_twice",
                        ));
                    }
                    codes.push(code);
                    let person = persons::person(store, id).await?;
                    traits.push((
                        relation,
                        person.as_ref().and_then(|p| p.gender.clone()),
                        person
                            .as_ref()
                            .and_then(|p| p.birth_date.as_deref()?.get(..4)?.parse().ok()),
                    ));
                    planned.push((Planned::Existing(id), relation));
                }
                _ => {
                    // Typed in full below: the same refusals as a new person.
                    typed(&m.person, &prefix, &mut refusals);
                }
            }
            continue;
        }
        if let Some(rec) = typed(&m.person, &prefix, &mut refusals) {
            let code = rec.national_code.clone().unwrap_or_default();
            if codes.contains(&code) {
                refusals.push(refuse(
                    format!("{prefix}national_code"),
                    "entry.member_twice",
                ));
            }
            codes.push(code);
            traits.push((
                relation,
                rec.gender.clone(),
                rec.birth_date
                    .as_deref()
                    .and_then(|d| d.get(..4)?.parse().ok()),
            ));
            planned.push((Planned::Record(Box::new(rec)), relation));
        }
    }
    if heads != 1 && !members.is_empty() {
        refusals.push(refuse("members", "entry.one_head"));
    }
    let Some(place) = place else {
        return Ok(Err(refusals));
    };
    let fields = household_fields(&place, input, &traits, &mut refusals);
    if !refusals.is_empty() {
        return Ok(Err(refusals));
    }
    let mut tx = store.begin().await?;
    let list = manual_list(store, &mut tx, &place, p.user_id).await?;
    let records = planned
        .iter()
        .filter(|(m, _)| matches!(m, Planned::Record(_)))
        .count() as i64;
    let batch = if records > 0 {
        Some(entry::open_batch(&mut tx, list, records, p.user_id).await?)
    } else {
        None
    };
    let mut member_persons: Vec<(i64, String)> = Vec::new();
    let mut new_persons = 0;
    let mut row = 0;
    for (i, (m, relation)) in planned.into_iter().enumerate() {
        let person = match m {
            Planned::Existing(id) => id,
            Planned::Record(mut rec) => {
                if entry::record_in_list(&mut tx, list, &rec.source_id)
                    .await?
                    .is_some()
                {
                    return Ok(Err(vec![refuse(
                        format!("m{i}.national_code"),
                        "entry.already_entered",
                    )]));
                }
                row += 1;
                rec.row_number = row;
                rec.province_code = Some(place.province.clone());
                rec.county_code = place.county.clone();
                rec.zone = Some(fields.zone.clone());
                if rec.address.is_none() {
                    rec.address = fields.address.clone();
                }
                let code = rec.national_code.clone().unwrap_or_default();
                let existing = entry::person_with_code(&mut tx, &code).await?;
                let batch = batch.ok_or(Error::Invalid("entry.edit_inconsistent"))?;
                let entered = entry::insert_record(&mut tx, list, batch, &rec, existing).await?;
                if entered.new_person {
                    new_persons += 1;
                }
                entered.person
            }
        };
        member_persons.push((person, relation.to_owned()));
    }
    let (household, moved) =
        entry::insert_household(&mut tx, list, &fields, &member_persons, p.user_id).await?;
    for (person, old) in &moved {
        entry::note_person_edit(
            &mut tx,
            *person,
            "household",
            Some(old.to_string()),
            Some(household.to_string()),
            p.user_id,
        )
        .await?;
    }
    let head = member_persons
        .iter()
        .find(|(_, r)| r == "head")
        .map(|(p, _)| *p)
        .unwrap_or_default();
    audit_write(
        &mut tx,
        caller,
        "household.enter",
        "household",
        household.to_string(),
        serde_json::json!({
            "members": member_persons.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            "new_persons": new_persons, "batch": batch, "list": list,
            "moved_from": moved.iter().map(|(_, h)| h).collect::<Vec<_>>(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(HouseholdSaved {
        household,
        head,
        members: member_persons.into_iter().map(|(p, _)| p).collect(),
        new_persons,
    }))
}

// ---------------------------------------------------------------------------------------------
// Edits

/// The place a stored person or household is filed under.
fn place_of(province: &Option<String>, county: &Option<String>) -> Place {
    Place::county(
        province.clone().unwrap_or_default(),
        county.clone().unwrap_or_default(),
    )
}

/// A person the principal may edit: in the scope (absent otherwise), filed under a county the
/// principal enters persons into (refused otherwise), not merged away.
async fn editable_person(store: &Store, p: &Principal, id: i64) -> Result<Person> {
    if !may_enter(p) {
        return Err(Error::Denied);
    }
    let person = persons::person(store, id).await?.ok_or(Error::NotFound)?;
    if !persons::in_scope(store, &p.place_filter(), id).await? {
        return Err(Error::NotFound);
    }
    if person.merged_into.is_some() {
        return Err(Error::Conflict("merge-person-merged-away"));
    }
    let place = place_of(&person.province_code, &person.county_code);
    p.authorize(Action::EnterPerson(&place))?;
    Ok(person)
}

/// A person's edit form: the values the office stated (its manual record) or, when it has
/// none, the person's, and the history of hand edits.
#[derive(Debug, Clone)]
pub struct PersonEdit {
    pub person: Person,
    pub input: PersonInput,
    pub history: Vec<Edit>,
    pub household: Option<i64>,
}

fn input_of(values: &[Option<String>]) -> PersonInput {
    let v = |i: usize| values.get(i).cloned().flatten().unwrap_or_default();
    PersonInput {
        national_code: v(0),
        first_name: v(1),
        last_name: v(2),
        father_name: v(3),
        birth_date: v(4),
        gender: v(5),
        phone: v(6),
        address: v(7),
    }
}

fn display_values(p: &Person) -> Vec<Option<String>> {
    vec![
        p.national_code.clone(),
        p.first_name.clone(),
        p.last_name.clone(),
        p.father_name.clone(),
        p.birth_date.clone(),
        p.gender.clone(),
        p.phone.clone(),
        None,
    ]
}

/// What the edit form shows. Audited as a read of the person.
pub async fn person_for_edit(store: &Store, caller: &Caller<'_>, id: i64) -> Result<PersonEdit> {
    let person = editable_person(store, caller.principal, id).await?;
    let mut conn = store.pool().acquire().await?;
    let manual = entry::manual_records_of(&mut conn, id).await?;
    let values = match manual.first() {
        Some((record, _, _)) => entry::record_values(&mut conn, *record).await?,
        None => display_values(&person),
    };
    let household = entry::household_id_of(&mut conn, id).await?;
    drop(conn);
    let history = entry::person_history(store, id).await?;
    crate::audit_read(
        store,
        caller,
        "person.read",
        "person",
        id.to_string(),
        serde_json::json!({ "for": "edit" }),
    )
    .await?;
    Ok(PersonEdit {
        person,
        input: input_of(&values),
        history,
        household,
    })
}

/// A person's history of hand edits (the person page shows it). Audited with the read of the
/// person page itself, so not again here; refused outside the scope.
pub async fn person_history(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Vec<Edit>> {
    let p = caller.principal;
    if !may_enter(p) {
        return Err(Error::Denied);
    }
    persons::person(store, id).await?.ok_or(Error::NotFound)?;
    if !persons::in_scope(store, &p.place_filter(), id).await? {
        return Err(Error::NotFound);
    }
    Ok(entry::person_history(store, id).await?)
}

/// Saves an edit of a person: written to the office's manual record of the person (one is
/// made when the person has none), each changed field kept with its old value, who and when.
/// A national code may change only to one no other person holds, and only when no other record
/// of the person states another code. The changed fields' names.
pub async fn edit_person(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    input: &PersonInput,
) -> Result<std::result::Result<Vec<String>, Vec<Refusal>>> {
    let p = caller.principal;
    let person = editable_person(store, p, id).await?;
    let mut refusals = Vec::new();
    let Some(rec) = typed(input, "", &mut refusals) else {
        return Ok(Err(refusals));
    };
    let code = rec.national_code.clone().unwrap_or_default();
    if person.national_code.as_deref() != Some(code.as_str()) {
        let mut conn = store.pool().acquire().await?;
        if entry::person_with_code(&mut conn, &code)
            .await?
            .is_some_and(|other| other != id)
        {
            return Ok(Err(vec![refuse("national_code", "entry.code_taken")]));
        }
        drop(conn);
        let manual: Vec<i64> = {
            let mut conn = store.pool().acquire().await?;
            entry::manual_records_of(&mut conn, id)
                .await?
                .into_iter()
                .map(|(r, _, _)| r)
                .collect()
        };
        let others_state_a_code = persons::records_of(store, id)
            .await?
            .iter()
            .any(|r| !manual.contains(&r.id) && r.national_code.is_some());
        if others_state_a_code {
            return Ok(Err(vec![refuse(
                "national_code",
                "entry.code_of_other_records",
            )]));
        }
    }
    let values = vec![
        rec.national_code.clone(),
        rec.first_name.clone(),
        rec.last_name.clone(),
        rec.father_name.clone(),
        rec.birth_date.clone(),
        rec.gender.clone(),
        rec.phone.clone(),
        rec.address.clone(),
    ];
    let mut tx = store.begin().await?;
    let manual = entry::manual_records_of(&mut tx, id).await?;
    let changed: Vec<String> = match manual.first() {
        Some((record, _, _)) => {
            let edit = RecordEdit {
                values,
                first_key: rec.first_key.clone(),
                last_key: rec.last_key.clone(),
                father_key: rec.father_key.clone(),
                birth_year_jalali: rec.birth_year_jalali,
                honorific: rec.honorific.clone(),
            };
            entry::edit_record(&mut tx, id, *record, &edit, p.user_id)
                .await?
                .into_iter()
                .map(|(f, _, _)| f)
                .collect()
        }
        None => {
            // The office states the person for the first time: a manual record of the
            // person's county that joins the person, the differences kept as edits.
            let place = place_of(&person.province_code, &person.county_code);
            let list = manual_list(store, &mut tx, &place, p.user_id).await?;
            if entry::record_in_list(&mut tx, list, &rec.source_id)
                .await?
                .is_some()
            {
                return Ok(Err(vec![refuse("national_code", "entry.already_entered")]));
            }
            let old = display_values(&person);
            let mut rec = rec;
            rec.province_code = person.province_code.clone();
            rec.county_code = person.county_code.clone();
            rec.zone = person.zone.clone();
            let batch = entry::open_batch(&mut tx, list, 1, p.user_id).await?;
            entry::insert_record(&mut tx, list, batch, &rec, Some(id)).await?;
            let mut changed = Vec::new();
            for ((field, a), b) in entry::EDITABLE.iter().zip(old).zip(values) {
                if a != b && !(*field == "address" && b.is_none()) {
                    entry::note_person_edit(&mut tx, id, field, a, b.clone(), p.user_id).await?;
                    changed.push((*field).to_owned());
                    if *field != "address"
                        && let Some(v) = b
                    {
                        entry::show_on_person(&mut tx, id, field, &v).await?;
                    }
                }
            }
            changed
        }
    };
    if changed.is_empty() {
        return Ok(Ok(changed));
    }
    audit_write(
        &mut tx,
        caller,
        "person.edit",
        "person",
        id.to_string(),
        serde_json::json!({ "fields": changed }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(changed))
}

/// A household's edit form: its facts as typed, its members' relations, its history.
#[derive(Debug, Clone)]
pub struct HouseholdEdit {
    pub id: i64,
    pub input: HouseholdInput,
    /// (person, relation, first name, last name).
    pub members: Vec<(i64, String, Option<String>, Option<String>)>,
    pub history: Vec<Edit>,
}

/// A household the principal may edit: its county in the principal's scope (absent otherwise).
async fn editable_household(
    store: &Store,
    p: &Principal,
    id: i64,
) -> Result<entry::StoredHousehold> {
    if !may_enter(p) {
        return Err(Error::Denied);
    }
    let mut conn = store.pool().acquire().await?;
    let h = entry::household(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    drop(conn);
    let place = Place::county(h.fields.province_code.clone(), h.fields.county_code.clone());
    if !p.allows(&Action::EnterPerson(&place)) {
        return Err(Error::NotFound);
    }
    Ok(h)
}

fn input_of_household(f: &HouseholdFields) -> HouseholdInput {
    HouseholdInput {
        county: f.county_code.clone(),
        zone: f.zone.clone(),
        address: f.address.clone().unwrap_or_default(),
        female_head: f.female_head,
        female_head_reason: f.female_head_reason.clone().unwrap_or_default(),
        monthly_income: f
            .monthly_income
            .map(|r| (r / 10).to_string())
            .unwrap_or_default(),
        income_decile: f.income_decile.map(|d| d.to_string()).unwrap_or_default(),
        dependants: f.dependants.to_string(),
        disability: f.disability,
        chronic_illness: f.chronic_illness,
        bereaved_by_covid: f.bereaved_by_covid,
    }
}

/// What the household edit form shows. Audited as a read of the household.
pub async fn household_for_edit(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
) -> Result<HouseholdEdit> {
    let h = editable_household(store, caller.principal, id).await?;
    let mut members = Vec::new();
    for (person, relation) in &h.members {
        let found = persons::person(store, *person).await?;
        members.push((
            *person,
            relation.clone(),
            found.as_ref().and_then(|p| p.first_name.clone()),
            found.as_ref().and_then(|p| p.last_name.clone()),
        ));
    }
    let history = entry::household_history(store, id).await?;
    crate::audit_read(
        store,
        caller,
        "household.read",
        "household",
        id.to_string(),
        serde_json::json!({ "members": members.len() }),
    )
    .await?;
    Ok(HouseholdEdit {
        id,
        input: input_of_household(&h.fields),
        members,
        history,
    })
}

/// Saves an edit of a household's facts and its members' relations (the county stays), each
/// change kept with its old value, who and when. The changed fields' names.
pub async fn edit_household(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    input: &HouseholdInput,
    relations: &[(i64, String)],
) -> Result<std::result::Result<Vec<String>, Vec<Refusal>>> {
    let p = caller.principal;
    let h = editable_household(store, p, id).await?;
    let place = Place::county(h.fields.province_code.clone(), h.fields.county_code.clone());
    let mut refusals = Vec::new();
    let mut typed_relations = Vec::new();
    let mut traits = Vec::new();
    for (person, relation) in relations {
        match code_of(relation, &RELATIONS, facts::parse_relation) {
            Some(r) => {
                let found = persons::person(store, *person).await?;
                traits.push((
                    r,
                    found.as_ref().and_then(|p| p.gender.clone()),
                    found
                        .as_ref()
                        .and_then(|p| p.birth_date.as_deref()?.get(..4)?.parse().ok()),
                ));
                typed_relations.push((*person, r.to_owned()));
            }
            None => refusals.push(refuse(
                format!("relation.{person}"),
                "entry.relation_unknown",
            )),
        }
    }
    if typed_relations.iter().filter(|(_, r)| r == "head").count() != 1 {
        refusals.push(refuse("members", "entry.one_head"));
    }
    let fields = household_fields(&place, input, &traits, &mut refusals);
    if !refusals.is_empty() {
        return Ok(Err(refusals));
    }
    let mut tx = store.begin().await?;
    let changes =
        entry::update_household(&mut tx, id, &fields, &typed_relations, p.user_id).await?;
    let changed: Vec<String> = changes.into_iter().map(|(f, _, _)| f).collect();
    if changed.is_empty() {
        return Ok(Ok(changed));
    }
    audit_write(
        &mut tx,
        caller,
        "household.edit",
        "household",
        id.to_string(),
        serde_json::json!({ "fields": changed }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(changed))
}

/// A household's history of hand edits; refused outside the scope.
pub async fn household_history(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Vec<Edit>> {
    editable_household(store, caller.principal, id).await?;
    Ok(entry::household_history(store, id).await?)
}
