//! People and households entered by hand. A hand-entered person is a source record of the
//! office's own "manual entry" list of a county (kind `survey`), written in a batch of its own
//! (file format `manual`), so linkage, coverage and provenance read it like any list's record.
//! A national code already in the registry joins that person; otherwise the record makes a new
//! person. Edits write the manual record and keep their history (`person_edits`,
//! `household_edits`: field, old value, new value, who, when).

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::persons::refresh_person;
use crate::registry::{self, NewList, NewSourceRecord, SourceList};
use crate::{AnyConnection, Result, Store, StoreError, Tx, flag, now_millis};

/// The file format of a hand-entered batch.
pub const MANUAL_FORMAT: &str = "manual";

/// The kind of the manual-entry lists: what an office finds itself, as a survey.
pub const MANUAL_LIST_KIND: &str = "survey";

/// The office that keeps a province's manual-entry lists: its active women and family affairs
/// office (kind `office`), else the national one (no province); `None` when there is none.
pub async fn office_of(conn: &mut AnyConnection, province: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT id FROM organisations WHERE kind = 'office' AND active = 1 \
         AND (province_code = $1 OR province_code IS NULL) \
         ORDER BY CASE WHEN province_code IS NULL THEN 1 ELSE 0 END, id LIMIT 1",
    )
    .bind(province.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The office's manual-entry list of a county, created when new.
pub async fn manual_list(
    conn: &mut AnyConnection,
    organisation: i64,
    province: &str,
    county: &str,
    county_name_fa: &str,
    by: Option<i64>,
) -> Result<SourceList> {
    registry::ensure_list(
        conn,
        NewList {
            organisation_id: organisation,
            name: format!("ثبت دستی — {county_name_fa} ({county})"),
            list_kind: MANUAL_LIST_KIND.into(),
            province_code: Some(province.to_owned()),
            county_code: Some(county.to_owned()),
            created_by: by,
        },
    )
    .await
}

/// A committed batch for one hand entry of `rows` records (its provenance: who, when).
pub async fn open_batch(tx: &mut Tx, list: i64, rows: i64, by: Option<i64>) -> Result<i64> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO import_batches (list_id, file_name, file_format, status, rows_in, \
         rows_accepted, rows_inserted, created_by, started_at, finished_at) \
         VALUES ($1, $2, $3, 'committed', $4, $4, $4, $5, $6, $6) RETURNING id",
    )
    .bind(list)
    .bind("ثبت دستی")
    .bind(MANUAL_FORMAT)
    .bind(rows)
    .bind(by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.get(0))
}

/// The person (after merges) a record with this national code belongs to, if any.
pub async fn person_with_code(conn: &mut AnyConnection, code: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT COALESCE(p.merged_into, p.id) FROM source_records r \
         JOIN persons p ON p.id = r.person_id WHERE r.national_code = $1 \
         ORDER BY r.id LIMIT 1",
    )
    .bind(code.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The record of this list with this `source_id`, and its person.
pub async fn record_in_list(
    conn: &mut AnyConnection,
    list: i64,
    source_id: &str,
) -> Result<Option<(i64, Option<i64>)>> {
    let row = sqlx::query(
        "SELECT id, person_id FROM source_records WHERE list_id = $1 AND source_id = $2",
    )
    .bind(list)
    .bind(source_id.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// The `source_id` of a hand-entered record: its national code.
pub fn manual_source_id(national_code: &str) -> String {
    format!("manual:{national_code}")
}

/// What writing one hand-entered record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entered {
    pub record: i64,
    pub person: i64,
    /// False when the record joined a person already in the registry.
    pub new_person: bool,
}

/// Writes a hand-entered record into the list's batch: it joins `person` when given (the
/// person its national code belongs to), else makes a new person; the person's display values
/// are chosen again from its records.
pub async fn insert_record(
    tx: &mut Tx,
    list: i64,
    batch: i64,
    rec: &NewSourceRecord,
    person: Option<i64>,
) -> Result<Entered> {
    let now = now_millis();
    let (person, new_person) = match person {
        Some(p) => (p, false),
        None => {
            let row = sqlx::query(
                "INSERT INTO persons (province_code, county_code, zone, national_code, first_name, \
                 last_name, father_name, birth_date, gender, phone, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(rec.province_code.clone())
            .bind(rec.county_code.clone())
            .bind(rec.zone.clone())
            .bind(rec.national_code.clone())
            .bind(rec.first_name.clone())
            .bind(rec.last_name.clone())
            .bind(rec.father_name.clone())
            .bind(rec.birth_date.clone())
            .bind(rec.gender.clone())
            .bind(rec.phone.clone())
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            (row.get::<i64, _>(0), true)
        }
    };
    let row = sqlx::query(
        "INSERT INTO source_records (list_id, source_id, batch_id, row_number, imported_at, \
         national_code, national_code_raw, honorific, first_name, last_name, father_name, \
         first_key, last_key, father_key, birth_date, birth_year_jalali, gender, phone, \
         province_code, county_code, province_raw, county_raw, address, zone, extra, person_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, $20, $21, $22, $23, $24, $25, $26) RETURNING id",
    )
    .bind(list)
    .bind(rec.source_id.clone())
    .bind(batch)
    .bind(rec.row_number)
    .bind(now)
    .bind(rec.national_code.clone())
    .bind(rec.national_code_raw.clone())
    .bind(rec.honorific.clone())
    .bind(rec.first_name.clone())
    .bind(rec.last_name.clone())
    .bind(rec.father_name.clone())
    .bind(rec.first_key.clone())
    .bind(rec.last_key.clone())
    .bind(rec.father_key.clone())
    .bind(rec.birth_date.clone())
    .bind(rec.birth_year_jalali)
    .bind(rec.gender.clone())
    .bind(rec.phone.clone())
    .bind(rec.province_code.clone())
    .bind(rec.county_code.clone())
    .bind(rec.province_raw.clone())
    .bind(rec.county_raw.clone())
    .bind(rec.address.clone())
    .bind(rec.zone.clone())
    .bind(if rec.extra.is_empty() {
        "{}".to_owned()
    } else {
        rec.extra.clone()
    })
    .bind(person)
    .fetch_one(&mut **tx)
    .await?;
    let record: i64 = row.get(0);
    refresh_person(tx, person).await?;
    if rec.zone.is_some() {
        sqlx::query("UPDATE persons SET zone = $2 WHERE id = $1")
            .bind(person)
            .bind(rec.zone.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(Entered {
        record,
        person,
        new_person,
    })
}

/// A household as an office enters it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdFields {
    pub province_code: String,
    pub county_code: String,
    /// `urban` or `rural`.
    pub zone: String,
    pub address: Option<String>,
    pub female_head: bool,
    pub female_head_reason: Option<String>,
    /// Rials a month.
    pub monthly_income: Option<i64>,
    pub income_decile: Option<i64>,
    pub dependants: i64,
    pub disability: bool,
    pub chronic_illness: bool,
    pub elderly: bool,
    pub bereaved_by_covid: bool,
}

impl HouseholdFields {
    /// Each field as (name, value as text) — what an edit compares and its history keeps.
    pub fn fields(&self) -> Vec<(&'static str, Option<String>)> {
        let yes_no = |b: bool| Some(if b { "1" } else { "0" }.to_owned());
        vec![
            ("county", Some(self.county_code.clone())),
            ("zone", Some(self.zone.clone())),
            ("address", self.address.clone()),
            ("female_head", yes_no(self.female_head)),
            ("female_head_reason", self.female_head_reason.clone()),
            ("monthly_income", self.monthly_income.map(|v| v.to_string())),
            ("income_decile", self.income_decile.map(|v| v.to_string())),
            ("dependants", Some(self.dependants.to_string())),
            ("disability", yes_no(self.disability)),
            ("chronic_illness", yes_no(self.chronic_illness)),
            ("elderly", yes_no(self.elderly)),
            ("bereaved_by_covid", yes_no(self.bereaved_by_covid)),
        ]
    }
}

/// A household with its stored facts and members.
#[derive(Debug, Clone)]
pub struct StoredHousehold {
    pub id: i64,
    pub fields: HouseholdFields,
    pub head_person_id: Option<i64>,
    /// (person, relation), the head first.
    pub members: Vec<(i64, String)>,
}

/// Moves a person into a household (a person belongs to one household; the latest wins) and
/// gives the person the household's zone. The household it left, if any.
async fn join_household(
    tx: &mut Tx,
    household: i64,
    person: i64,
    relation: &str,
    zone: &str,
) -> Result<Option<i64>> {
    let left: Option<i64> =
        sqlx::query("SELECT household_id FROM household_members WHERE person_id = $1")
            .bind(person)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.get(0));
    sqlx::query("DELETE FROM household_members WHERE person_id = $1")
        .bind(person)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO household_members (person_id, household_id, relation) VALUES ($1, $2, $3)",
    )
    .bind(person)
    .bind(household)
    .bind(relation.to_owned())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE persons SET zone = $2 WHERE id = $1")
        .bind(person)
        .bind(zone.to_owned())
        .execute(&mut **tx)
        .await?;
    if let Some(old) = left {
        // A head who left heads that household no more.
        sqlx::query(
            "UPDATE households SET head_person_id = NULL WHERE id = $1 AND head_person_id = $2",
        )
        .bind(old)
        .bind(person)
        .execute(&mut **tx)
        .await?;
    }
    Ok(left.filter(|h| *h != household))
}

/// Writes a household entered by hand with its members ((person, relation), one `head`); the
/// households members left, for their history.
pub async fn insert_household(
    tx: &mut Tx,
    list: i64,
    h: &HouseholdFields,
    members: &[(i64, String)],
    by: Option<i64>,
) -> Result<(i64, Vec<(i64, i64)>)> {
    let head = members
        .iter()
        .find(|(_, rel)| rel == "head")
        .map(|(p, _)| *p)
        .ok_or(StoreError::Invalid("entry.head_missing"))?;
    let now = now_millis();
    let id: i64 = sqlx::query(
        "INSERT INTO households (head_person_id, province_code, county_code, zone, address, \
         female_head, female_head_reason, dependants, disability, chronic_illness, elderly, \
         bereaved_by_covid, income_decile, monthly_income, source_list_id, created_by, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
         RETURNING id",
    )
    .bind(head)
    .bind(h.province_code.clone())
    .bind(h.county_code.clone())
    .bind(h.zone.clone())
    .bind(h.address.clone())
    .bind(flag(h.female_head))
    .bind(h.female_head_reason.clone())
    .bind(h.dependants)
    .bind(flag(h.disability))
    .bind(flag(h.chronic_illness))
    .bind(flag(h.elderly))
    .bind(flag(h.bereaved_by_covid))
    .bind(h.income_decile)
    .bind(h.monthly_income)
    .bind(list)
    .bind(by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    let mut moved = Vec::new();
    for (person, relation) in members {
        if let Some(old) = join_household(tx, id, *person, relation, &h.zone).await? {
            moved.push((*person, old));
        }
    }
    Ok((id, moved))
}

const HOUSEHOLD_SELECT: &str = "SELECT id, province_code, county_code, zone, address, female_head, \
     female_head_reason, monthly_income, income_decile, dependants, disability, chronic_illness, \
     elderly, bereaved_by_covid, head_person_id FROM households WHERE id = $1";

/// A household with its facts and members.
pub async fn household(conn: &mut AnyConnection, id: i64) -> Result<Option<StoredHousehold>> {
    let Some(r) = sqlx::query(HOUSEHOLD_SELECT)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let yes = |i: usize| r.get::<i64, _>(i) != 0;
    let fields = HouseholdFields {
        province_code: r.get::<Option<String>, _>(1).unwrap_or_default(),
        county_code: r.get::<Option<String>, _>(2).unwrap_or_default(),
        zone: r.get::<Option<String>, _>(3).unwrap_or_default(),
        address: r.get(4),
        female_head: yes(5),
        female_head_reason: r.get(6),
        monthly_income: r.get(7),
        income_decile: r.get(8),
        dependants: r.get(9),
        disability: yes(10),
        chronic_illness: yes(11),
        elderly: yes(12),
        bereaved_by_covid: yes(13),
    };
    let head_person_id: Option<i64> = r.get(14);
    let members = sqlx::query(
        "SELECT person_id, relation FROM household_members WHERE household_id = $1 \
         ORDER BY CASE relation WHEN 'head' THEN 0 WHEN 'spouse' THEN 1 ELSE 2 END, person_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
    .collect();
    Ok(Some(StoredHousehold {
        id,
        fields,
        head_person_id,
        members,
    }))
}

/// The household a person belongs to, if any.
pub async fn household_id_of(conn: &mut AnyConnection, person: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT household_id FROM household_members WHERE person_id = $1")
            .bind(person)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.get(0)),
    )
}

/// Writes a household's facts and its members' relations; returns the changes made as
/// (field, old, new), each also kept in `household_edits`.
pub async fn update_household(
    tx: &mut Tx,
    id: i64,
    new: &HouseholdFields,
    relations: &[(i64, String)],
    by: Option<i64>,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    let old = household(tx, id).await?.ok_or(StoreError::NotFound)?;
    let mut changes: Vec<(String, Option<String>, Option<String>)> = old
        .fields
        .fields()
        .into_iter()
        .zip(new.fields())
        .filter(|((_, a), (_, b))| a != b)
        .map(|((name, a), (_, b))| (name.to_owned(), a, b))
        .collect();
    for (person, relation) in relations {
        let Some((_, was)) = old.members.iter().find(|(p, _)| p == person) else {
            return Err(StoreError::Invalid("entry.member_unknown"));
        };
        if was != relation {
            sqlx::query(
                "UPDATE household_members SET relation = $3 WHERE household_id = $1 AND person_id = $2",
            )
            .bind(id)
            .bind(*person)
            .bind(relation.clone())
            .execute(&mut **tx)
            .await?;
            changes.push((
                format!("relation:{person}"),
                Some(was.clone()),
                Some(relation.clone()),
            ));
        }
    }
    if changes.is_empty() {
        return Ok(changes);
    }
    let head = relations
        .iter()
        .find(|(_, r)| r == "head")
        .map(|(p, _)| *p)
        .or(old.head_person_id);
    let now = now_millis();
    sqlx::query(
        "UPDATE households SET province_code = $2, county_code = $3, zone = $4, address = $5, \
         female_head = $6, female_head_reason = $7, monthly_income = $8, income_decile = $9, \
         dependants = $10, disability = $11, chronic_illness = $12, elderly = $13, \
         bereaved_by_covid = $14, head_person_id = $15, updated_at = $16 WHERE id = $1",
    )
    .bind(id)
    .bind(new.province_code.clone())
    .bind(new.county_code.clone())
    .bind(new.zone.clone())
    .bind(new.address.clone())
    .bind(flag(new.female_head))
    .bind(new.female_head_reason.clone())
    .bind(new.monthly_income)
    .bind(new.income_decile)
    .bind(new.dependants)
    .bind(flag(new.disability))
    .bind(flag(new.chronic_illness))
    .bind(flag(new.elderly))
    .bind(flag(new.bereaved_by_covid))
    .bind(head)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if old.fields.zone != new.zone {
        sqlx::query(
            "UPDATE persons SET zone = $2 WHERE id IN \
             (SELECT person_id FROM household_members WHERE household_id = $1)",
        )
        .bind(id)
        .bind(new.zone.clone())
        .execute(&mut **tx)
        .await?;
    }
    for (field, a, b) in &changes {
        sqlx::query(
            "INSERT INTO household_edits (household_id, field, old_value, new_value, edited_by, \
             edited_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(field.clone())
        .bind(a.clone())
        .bind(b.clone())
        .bind(by)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(changes)
}

/// The fields of a record an edit may change, as they are stored.
pub const EDITABLE: [&str; 8] = [
    "national_code",
    "first_name",
    "last_name",
    "father_name",
    "birth_date",
    "gender",
    "phone",
    "address",
];

/// A record's editable values, in [`EDITABLE`] order.
pub async fn record_values(conn: &mut AnyConnection, record: i64) -> Result<Vec<Option<String>>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM source_records WHERE id = $1",
        EDITABLE.join(", ")
    )))
    .bind(record)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((0..EDITABLE.len()).map(|i| row.get(i)).collect())
}

/// The new values of an edited record: the editable fields ([`EDITABLE`] order) and what
/// follows from them (name keys, Jalali birth year).
#[derive(Debug, Clone, Default)]
pub struct RecordEdit {
    pub values: Vec<Option<String>>,
    pub first_key: Option<String>,
    pub last_key: Option<String>,
    pub father_key: Option<String>,
    pub birth_year_jalali: Option<i64>,
    pub honorific: Option<String>,
}

/// Writes an edit of a hand-entered record, keeps each changed field in `person_edits` (old and
/// new value, who, when), chooses the person's display values again and shows the edited
/// values on the person. The changes as (field, old, new).
pub async fn edit_record(
    tx: &mut Tx,
    person: i64,
    record: i64,
    edit: &RecordEdit,
    by: Option<i64>,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    if edit.values.len() != EDITABLE.len() {
        return Err(StoreError::Invalid("entry.edit_inconsistent"));
    }
    let old = record_values(tx, record).await?;
    let changes: Vec<(String, Option<String>, Option<String>)> = EDITABLE
        .iter()
        .zip(old.iter().zip(&edit.values))
        .filter(|(_, (a, b))| a != b)
        .map(|(f, (a, b))| ((*f).to_owned(), a.clone(), b.clone()))
        .collect();
    if changes.is_empty() {
        return Ok(changes);
    }
    let now = now_millis();
    let sets: Vec<String> = EDITABLE
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{f} = ${}", i + 2))
        .collect();
    let n = EDITABLE.len() + 2;
    let sql = format!(
        "UPDATE source_records SET {}, first_key = ${n}, last_key = ${}, father_key = ${}, \
         birth_year_jalali = ${}, honorific = ${} WHERE id = $1",
        sets.join(", "),
        n + 1,
        n + 2,
        n + 3,
        n + 4
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(record);
    for v in &edit.values {
        q = q.bind(v.clone());
    }
    q.bind(edit.first_key.clone())
        .bind(edit.last_key.clone())
        .bind(edit.father_key.clone())
        .bind(edit.birth_year_jalali)
        .bind(edit.honorific.clone())
        .execute(&mut **tx)
        .await?;
    for (field, a, b) in &changes {
        sqlx::query(
            "INSERT INTO person_edits (person_id, record_id, field, old_value, new_value, \
             edited_by, edited_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(person)
        .bind(record)
        .bind(field.clone())
        .bind(a.clone())
        .bind(b.clone())
        .bind(by)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    refresh_person(tx, person).await?;
    // What the office corrected shows on the person now (the display is otherwise chosen from
    // the oldest record that has a value).
    for (field, _, new) in &changes {
        if let Some(v) = new {
            show_on_person(tx, person, field, v).await?;
        }
    }
    Ok(changes)
}

/// Shows a value the office corrected on the person (one of [`EDITABLE`] but the address,
/// which persons do not hold; anything else is ignored).
pub async fn show_on_person(tx: &mut Tx, person: i64, field: &str, value: &str) -> Result<()> {
    let Some(column) = EDITABLE.iter().find(|f| **f == field && **f != "address") else {
        return Ok(());
    };
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE persons SET {column} = $2 WHERE id = $1"
    )))
    .bind(person)
    .bind(value.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Notes a change that is not a record field (a household joined or left) in the person's
/// history.
pub async fn note_person_edit(
    tx: &mut Tx,
    person: i64,
    field: &str,
    old: Option<String>,
    new: Option<String>,
    by: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO person_edits (person_id, field, old_value, new_value, edited_by, edited_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(person)
    .bind(field.to_owned())
    .bind(old)
    .bind(new)
    .bind(by)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The hand-entered records of a person (records of `manual` batches), oldest first:
/// (record, list, the list's county).
pub async fn manual_records_of(
    conn: &mut AnyConnection,
    person: i64,
) -> Result<Vec<(i64, i64, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT r.id, r.list_id, l.county_code FROM source_records r \
         JOIN import_batches b ON b.id = r.batch_id JOIN source_lists l ON l.id = r.list_id \
         WHERE r.person_id = $1 AND b.file_format = $2 ORDER BY r.id",
    )
    .bind(person)
    .bind(MANUAL_FORMAT)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// One change in a history.
#[derive(Debug, Clone, Serialize)]
pub struct Edit {
    pub id: i64,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub edited_by: Option<i64>,
    /// The editor's display name, when the user is known.
    pub editor: Option<String>,
    pub edited_at: i64,
}

fn edit_from_row(r: &sqlx::any::AnyRow) -> Edit {
    Edit {
        id: r.get(0),
        field: r.get(1),
        old_value: r.get(2),
        new_value: r.get(3),
        edited_by: r.get(4),
        editor: r.get(5),
        edited_at: r.get(6),
    }
}

/// A person's history of hand edits, newest first.
pub async fn person_history(store: &Store, person: i64) -> Result<Vec<Edit>> {
    let rows = sqlx::query(
        "SELECT e.id, e.field, e.old_value, e.new_value, e.edited_by, u.display_name, e.edited_at \
         FROM person_edits e LEFT JOIN users u ON u.id = e.edited_by WHERE e.person_id = $1 \
         ORDER BY e.id DESC LIMIT 500",
    )
    .bind(person)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(edit_from_row).collect())
}

/// A household's history of hand edits, newest first.
pub async fn household_history(store: &Store, household: i64) -> Result<Vec<Edit>> {
    let rows = sqlx::query(
        "SELECT e.id, e.field, e.old_value, e.new_value, e.edited_by, u.display_name, e.edited_at \
         FROM household_edits e LEFT JOIN users u ON u.id = e.edited_by \
         WHERE e.household_id = $1 ORDER BY e.id DESC LIMIT 500",
    )
    .bind(household)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(edit_from_row).collect())
}

/// The lists a person is on: (organisation fa, organisation en, list name, list kind), one line
/// per list.
#[derive(Debug, Clone, Serialize)]
pub struct ListLine {
    pub organisation_fa: String,
    pub organisation_en: String,
    pub list_name: String,
    pub list_kind: String,
}

pub async fn lists_of_person(store: &Store, person: i64) -> Result<Vec<ListLine>> {
    let rows = sqlx::query(
        "SELECT DISTINCT o.name_fa, o.name_en, l.name, l.list_kind FROM source_records r \
         JOIN source_lists l ON l.id = r.list_id JOIN organisations o ON o.id = l.organisation_id \
         WHERE r.person_id = $1 ORDER BY o.name_fa, l.name",
    )
    .bind(person)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| ListLine {
            organisation_fa: r.get(0),
            organisation_en: r.get(1),
            list_name: r.get(2),
            list_kind: r.get(3),
        })
        .collect())
}
