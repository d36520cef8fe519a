//! Linkage in the registry: after an import, the records that have no person yet are linked
//! against everything already there. Person ids stay stable: a new record joins the person it
//! matches, records that match nobody make new persons, and nothing already decided is undone —
//! two existing persons are never merged automatically (that becomes a review item), a pair a
//! reviewer separated never joins again, and a person never holds two different valid national
//! codes.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use hamdeli_link::{LinkOptions, RawRecord, RecordSet, ScoredPair, link};
use hamdeli_store::Store;
use hamdeli_store::persons::{self, LinkApplied, LinkPlan, LinkRow, NewReview, PersonDisplay};
use hamdeli_store::registry::{self, BatchLinks, Committed, NewSourceRecord, PersonRef};

/// Pairs from this probability up to the match threshold go to the review queue.
pub const REVIEW_FLOOR: f64 = 0.5;

#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkReport {
    pub records: u64,
    pub new_records: u64,
    pub candidate_pairs: u64,
    #[serde(flatten)]
    pub applied: LinkApplied,
    pub refused: u64,
    pub millis: u64,
}

/// Union-find over record indices, with what each component holds that a merge must respect.
struct Components {
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
    person: Vec<Option<i64>>,
    code: Vec<Option<String>>,
}

impl Components {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) -> u32 {
        let (big, small) = if self.members[a as usize].len() >= self.members[b as usize].len() {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        let moved = std::mem::take(&mut self.members[small as usize]);
        self.members[big as usize].extend(moved);
        if self.person[big as usize].is_none() {
            self.person[big as usize] = self.person[small as usize];
        }
        if self.code[big as usize].is_none() {
            self.code[big as usize] = self.code[small as usize].take();
        }
        big
    }
}

/// Why a candidate pair above the threshold was not merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blocked {
    NationalCodes,
    Persons,
    Separated,
}

fn raw(row: &LinkRow) -> RawRecord<'_> {
    RawRecord {
        national_code: row.national_code.as_deref(),
        first_name: row.first_name.as_deref(),
        last_name: row.last_name.as_deref(),
        full_name: None,
        father_name: row.father_name.as_deref(),
        birth_date: row.birth_date.as_deref(),
        gender: row.gender.as_deref(),
        phone: row.phone.as_deref(),
        province: row.province_code.as_deref(),
        county: row.county_code.as_deref(),
    }
}

fn valid_code(row: &LinkRow) -> Option<String> {
    row.national_code
        .as_deref()
        .and_then(|c| hamdeli_text::NationalCode::parse(c).ok())
        .map(|c| c.code.to_string())
}

fn evidence_json(result_model: &hamdeli_link::Model, set: &RecordSet, pair: &ScoredPair) -> String {
    let items: Vec<serde_json::Value> = result_model
        .explain(set, pair)
        .into_iter()
        .map(|w| {
            serde_json::json!([
                w.field.code(),
                w.code,
                w.strength.code(),
                (w.bits * 100.0).round() as i64
            ])
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// Links every record without a person into the registry and writes the result.
pub async fn link_new_records(
    store: &Store,
    batch_id: Option<i64>,
    options: &LinkOptions,
) -> Result<LinkReport> {
    let started = Instant::now();
    if !persons::any_unlinked_record(store).await? {
        return Ok(LinkReport {
            records: persons::record_count(store).await?.max(0) as u64,
            millis: started.elapsed().as_millis() as u64,
            ..Default::default()
        });
    }
    let rows = persons::link_rows(store).await?;
    let new_records = rows.iter().filter(|r| r.person_id.is_none()).count() as u64;
    if new_records == 0 {
        return Ok(LinkReport {
            records: rows.len() as u64,
            millis: started.elapsed().as_millis() as u64,
            ..Default::default()
        });
    }
    let separations = persons::separations(store).await?;
    let reviewed = persons::reviewed_pairs(store).await?;
    let options = options.clone();
    let records = rows.len() as u64;
    let (mut plan, candidate_pairs, refused) =
        tokio::task::spawn_blocking(move || plan(&rows, &separations, &reviewed, &options)).await?;
    plan.batch_id = batch_id;
    let applied = persons::apply_plan(store, &plan).await?;
    Ok(LinkReport {
        records,
        new_records,
        candidate_pairs,
        applied,
        refused,
        millis: started.elapsed().as_millis() as u64,
    })
}

/// Linkage of a batch decided in memory before the batch is written. Records of the batch
/// are named by `-(index + 1)` until the write gives them ids.
#[derive(Debug, Default)]
pub struct BatchPlan {
    /// What the write needs: the person of each record of the batch, and the new persons.
    pub links: BatchLinks,
    /// Registry records that had no person yet (a deferred load) and the person each joins.
    older: Vec<(i64, PersonRef)>,
    reviews: Vec<NewReview>,
    /// Existing persons records of the batch join (their display values are chosen again).
    refresh: Vec<i64>,
    /// Records (batch records by `-(index + 1)`) whose `code_borrowed` changes.
    borrowed_codes: Vec<(i64, bool)>,
    records: u64,
    new_records: u64,
    candidate_pairs: u64,
    refused: u64,
    started: Option<Instant>,
}

fn batch_row(index: usize, r: &NewSourceRecord) -> LinkRow {
    LinkRow {
        id: -(index as i64 + 1),
        person_id: None,
        national_code: r.national_code.clone(),
        first_name: r.first_name.clone(),
        last_name: r.last_name.clone(),
        father_name: r.father_name.clone(),
        birth_date: r.birth_date.clone(),
        gender: r.gender.clone(),
        phone: r.phone.clone(),
        province_code: r.province_code.clone(),
        county_code: r.county_code.clone(),
        zone: r.zone.clone(),
        relation: relation_of(r.facts.as_deref()),
        code_borrowed: false,
    }
}

/// Links a batch's new records (those whose `source_id` the list does not have yet) and the
/// registry's unlinked records against the whole registry, before anything is written.
pub async fn plan_batch(
    store: &Store,
    list_id: i64,
    records: &[NewSourceRecord],
    options: &LinkOptions,
) -> Result<BatchPlan> {
    let started = Instant::now();
    let known = registry::source_ids_of(store, list_id).await?;
    let mut rows = persons::link_rows(store).await?;
    rows.extend(
        records
            .iter()
            .enumerate()
            .filter(|(_, r)| !known.contains(&r.source_id))
            .map(|(i, r)| batch_row(i, r)),
    );
    let mut out = BatchPlan {
        links: BatchLinks {
            person_of: vec![PersonRef::Unlinked; records.len()],
            new_persons: Vec::new(),
        },
        records: rows.len() as u64,
        new_records: rows.iter().filter(|r| r.person_id.is_none()).count() as u64,
        started: Some(started),
        ..Default::default()
    };
    if out.new_records == 0 {
        return Ok(out);
    }
    let separations = persons::separations(store).await?;
    let reviewed = persons::reviewed_pairs(store).await?;
    let options = options.clone();
    let loaded = started.elapsed();
    // Every row carries its relation to the head of household (the registry's records their
    // stored facts', the batch's its own).
    let (plan, candidate_pairs, refused) = tokio::task::spawn_blocking(move || {
        plan_related(&rows, &[], &separations, &reviewed, &options)
    })
    .await?;
    tracing::debug!(
        load_s = loaded.as_secs_f64(),
        plan_s = (started.elapsed() - loaded).as_secs_f64(),
        "batch linkage planned"
    );
    out.candidate_pairs = candidate_pairs;
    out.refused = refused;
    for (k, (members, display)) in plan
        .new_persons
        .into_iter()
        .zip(plan.new_person_display)
        .enumerate()
    {
        let person = PersonRef::New(k as u32);
        for id in members {
            if id < 0 {
                out.links.person_of[(-id - 1) as usize] = person;
            } else {
                out.older.push((id, person));
            }
        }
        out.links.new_persons.push(display);
    }
    for (record, person) in plan.joins {
        if record < 0 {
            out.links.person_of[(-record - 1) as usize] = PersonRef::Existing(person);
            out.refresh.push(person);
        } else {
            out.older.push((record, PersonRef::Existing(person)));
        }
    }
    out.reviews = plan.reviews;
    out.refresh.extend(plan.refresh);
    out.borrowed_codes = plan.borrowed_codes;
    Ok(out)
}

/// After the batch is written: registry records that had no person join theirs, existing
/// persons the batch joined show their new values, and uncertain pairs go to the review
/// queue (all with the ids the write handed out).
pub async fn finish_batch(
    store: &Store,
    batch_id: i64,
    plan: BatchPlan,
    committed: &Committed,
) -> Result<LinkReport> {
    let record_id = |id: i64| {
        if id < 0 {
            committed.record_ids[(-id - 1) as usize]
        } else {
            id
        }
    };
    let person_id = |p: PersonRef| match p {
        PersonRef::New(k) => Some(committed.first_person_id + i64::from(k)),
        PersonRef::Existing(p) => Some(p),
        PersonRef::Unlinked => None,
    };
    let joined_in_batch = plan
        .links
        .person_of
        .iter()
        .filter(|p| matches!(p, PersonRef::Existing(_)))
        .count();
    let rest = LinkPlan {
        joins: plan
            .older
            .iter()
            .filter_map(|&(r, p)| person_id(p).map(|p| (r, p)))
            .collect(),
        reviews: plan
            .reviews
            .into_iter()
            .map(|r| {
                let (a, b) = (record_id(r.record_a), record_id(r.record_b));
                NewReview {
                    record_a: a.min(b),
                    record_b: a.max(b),
                    ..r
                }
            })
            .collect(),
        refresh: plan.refresh,
        borrowed_codes: plan
            .borrowed_codes
            .iter()
            .map(|&(r, b)| (record_id(r), b))
            .collect(),
        batch_id: Some(batch_id),
        ..Default::default()
    };
    let older_joined = plan
        .older
        .iter()
        .filter(|(_, p)| matches!(p, PersonRef::Existing(_)))
        .count();
    if !(rest.joins.is_empty()
        && rest.reviews.is_empty()
        && rest.refresh.is_empty()
        && rest.borrowed_codes.is_empty())
    {
        persons::apply_plan(store, &rest).await?;
    }
    Ok(LinkReport {
        records: plan.records,
        new_records: plan.new_records,
        candidate_pairs: plan.candidate_pairs,
        applied: LinkApplied {
            persons_created: plan.links.new_persons.len() as i64,
            records_joined: (joined_in_batch + older_joined) as i64,
            reviews_opened: rest.reviews.len() as i64,
        },
        refused: plan.refused,
        millis: plan
            .started
            .map(|s| s.elapsed().as_millis() as u64)
            .unwrap_or(0),
    })
}

/// The relation to the head of household a record's facts state (`head`, `child`, …).
fn relation_of(facts: Option<&str>) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(facts?).ok()?;
    v.get("relation")?.as_str().map(str::to_owned)
}

/// The decisions, without touching the database (so they can be tested alone). `rows` come in
/// registry order: existing records by id, then a batch's new records in file order.
pub fn plan(
    rows: &[LinkRow],
    separations: &HashSet<(i64, i64)>,
    reviewed: &HashSet<(i64, i64)>,
    options: &LinkOptions,
) -> (LinkPlan, u64, u64) {
    plan_related(rows, &[], separations, reviewed, options)
}

/// [`plan`] with each row's relation to the head of household where the list stated it
/// (`relations[i]` for `rows[i]`, else the row's own [`LinkRow::relation`]). A dependant listed
/// under the head's national code is then household evidence, not the head: the engine
/// releases its borrowed code ([`hamdeli_link::LinkResult::released_codes`]), and so does this
/// plan — such a record holds no code of its own here, a person made of it does not show the
/// head's, and the plan marks it (`code_borrowed`, [`LinkPlan::borrowed_codes`]) so that no
/// person shows it later either. The engine decides over the whole registry, so a record of
/// the registry can become borrowed (or stop being so) when another list arrives: its person's
/// display values are chosen again.
pub fn plan_related(
    rows: &[LinkRow],
    relations: &[Option<&str>],
    separations: &HashSet<(i64, i64)>,
    reviewed: &HashSet<(i64, i64)>,
    options: &LinkOptions,
) -> (LinkPlan, u64, u64) {
    let started = Instant::now();
    let mut set = RecordSet::new();
    for (i, row) in rows.iter().enumerate() {
        let relation = relations
            .get(i)
            .copied()
            .flatten()
            .or(row.relation.as_deref());
        set.push_raw_related(0, &raw(row), relation);
    }
    let pushed = started.elapsed();
    let options = LinkOptions {
        keep_pairs_above: options.keep_pairs_above.min(REVIEW_FLOOR),
        ..options.clone()
    };
    let result = link(&set, &options, &|_, _, _| {});
    let linked = started.elapsed();
    let is_new: Vec<bool> = rows.iter().map(|r| r.person_id.is_none()).collect();

    let n = rows.len();
    let released: HashSet<u32> = result.released_codes.iter().copied().collect();
    let mut comps = Components {
        parent: (0..n as u32).collect(),
        members: (0..n as u32).map(|i| vec![i]).collect(),
        person: rows.iter().map(|r| r.person_id).collect(),
        code: rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if released.contains(&(i as u32)) {
                    None
                } else {
                    valid_code(r)
                }
            })
            .collect(),
    };
    // Records of one existing person start as one component.
    let mut first_of_person: HashMap<i64, u32> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(p) = r.person_id {
            match first_of_person.get(&p) {
                Some(&j) => {
                    let (a, b) = (comps.find(j), comps.find(i as u32));
                    if a != b {
                        comps.union(a, b);
                    }
                }
                None => {
                    first_of_person.insert(p, i as u32);
                }
            }
        }
    }
    let mut separated_from: HashMap<u32, Vec<u32>> = HashMap::new();
    let index_of: HashMap<i64, u32> = if separations.is_empty() {
        HashMap::new()
    } else {
        rows.iter()
            .enumerate()
            .map(|(i, r)| (r.id, i as u32))
            .collect()
    };
    for (a, b) in separations {
        if let (Some(&x), Some(&y)) = (index_of.get(a), index_of.get(b)) {
            separated_from.entry(x).or_default().push(y);
            separated_from.entry(y).or_default().push(x);
        }
    }

    let mut pairs: Vec<&ScoredPair> = result
        .pairs
        .iter()
        .filter(|p| is_new[p.a as usize] || is_new[p.b as usize])
        .filter(|p| p.probability >= REVIEW_FLOOR)
        .collect();
    // Most probable first; ties by record order, so the same registry gives the same persons.
    pairs.sort_by(|x, y| {
        y.probability
            .total_cmp(&x.probability)
            .then((x.a.min(x.b), x.a.max(x.b)).cmp(&(y.a.min(y.b), y.a.max(y.b))))
    });

    let mut reviews = Vec::new();
    let mut queued: HashSet<(i64, i64)> = HashSet::new();
    let mut refused = 0u64;
    for pair in pairs {
        let (ra, rb) = (comps.find(pair.a), comps.find(pair.b));
        if ra == rb {
            continue;
        }
        let ids = {
            let (a, b) = (rows[pair.a as usize].id, rows[pair.b as usize].id);
            (a.min(b), a.max(b))
        };
        let blocked = blocked(&comps, ra, rb, &separated_from);
        if blocked == Some(Blocked::Separated) {
            continue;
        }
        let reason = match (pair.probability >= options.threshold, blocked) {
            (true, None) => {
                comps.union(ra, rb);
                continue;
            }
            (true, Some(Blocked::NationalCodes)) => {
                refused += 1;
                "national_code_conflict"
            }
            (true, Some(_)) => "person_conflict",
            (false, Some(Blocked::NationalCodes)) => continue,
            (false, _) => "uncertain",
        };
        if reviewed.contains(&ids) || !queued.insert(ids) {
            continue;
        }
        reviews.push(NewReview {
            record_a: ids.0,
            record_b: ids.1,
            probability_bp: (pair.probability * 10_000.0).round() as i64,
            evidence: evidence_json(&result.model, &set, pair),
            reason,
        });
    }

    let mut plan = LinkPlan::default();
    // Rows are in registry order, so groups made in row order list their records oldest
    // first and come out ordered by their oldest record: the same registry, the same persons.
    let mut group_of_root: Vec<u32> = vec![u32::MAX; n];
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for i in 0..n as u32 {
        if !is_new[i as usize] {
            continue;
        }
        let root = comps.find(i);
        match comps.person[root as usize] {
            Some(person) => plan.joins.push((rows[i as usize].id, person)),
            None => {
                let g = &mut group_of_root[root as usize];
                if *g == u32::MAX {
                    *g = groups.len() as u32;
                    groups.push(Vec::new());
                }
                groups[*g as usize].push(i);
            }
        }
    }
    // A person made of dependants' rows does not show the head's code as its own.
    let own = |i: u32| -> std::borrow::Cow<'_, LinkRow> {
        if released.contains(&i) {
            std::borrow::Cow::Owned(LinkRow {
                national_code: None,
                ..rows[i as usize].clone()
            })
        } else {
            std::borrow::Cow::Borrowed(&rows[i as usize])
        }
    };
    plan.new_person_display = groups
        .iter()
        .map(|members| {
            let rows: Vec<std::borrow::Cow<'_, LinkRow>> =
                members.iter().map(|&i| own(i)).collect();
            PersonDisplay::of(rows.iter().map(|r| r.as_ref()))
        })
        .collect();
    let new_persons: Vec<Vec<i64>> = groups
        .iter()
        .map(|members| members.iter().map(|&i| rows[i as usize].id).collect())
        .collect();
    plan.new_persons = new_persons;
    plan.reviews = reviews;
    // Records whose code became (or stopped being) a borrowed one; the existing persons that
    // hold them show their values chosen again.
    for (i, row) in rows.iter().enumerate() {
        let now = released.contains(&(i as u32));
        if now != row.code_borrowed {
            plan.borrowed_codes.push((row.id, now));
            if let Some(p) = row.person_id {
                plan.refresh.push(p);
            }
        }
    }
    tracing::debug!(
        records = n,
        normalise_s = pushed.as_secs_f64(),
        link_s = (linked - pushed).as_secs_f64(),
        decide_s = (started.elapsed() - linked).as_secs_f64(),
        "linkage plan"
    );
    (plan, result.stats.candidate_pairs, refused)
}

fn blocked(
    comps: &Components,
    a: u32,
    b: u32,
    separated_from: &HashMap<u32, Vec<u32>>,
) -> Option<Blocked> {
    if let (Some(x), Some(y)) = (&comps.code[a as usize], &comps.code[b as usize])
        && x != y
    {
        return Some(Blocked::NationalCodes);
    }
    if let (Some(x), Some(y)) = (comps.person[a as usize], comps.person[b as usize])
        && x != y
    {
        return Some(Blocked::Persons);
    }
    let (small, other) = if comps.members[a as usize].len() <= comps.members[b as usize].len() {
        (a, b)
    } else {
        (b, a)
    };
    let other_members: HashSet<u32> = comps.members[other as usize].iter().copied().collect();
    for m in &comps.members[small as usize] {
        if let Some(list) = separated_from.get(m)
            && list.iter().any(|x| other_members.contains(x))
        {
            return Some(Blocked::Separated);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, person: Option<i64>, code: Option<&str>, first: &str, last: &str) -> LinkRow {
        LinkRow {
            id,
            person_id: person,
            national_code: code.map(str::to_owned),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            father_name: Some("علی".into()),
            birth_date: Some("1981-08-03".into()),
            gender: Some("female".into()),
            phone: Some("09121234567".into()),
            province_code: Some("23".into()),
            county_code: Some("2301".into()),
            zone: None,
            relation: None,
            code_borrowed: false,
        }
    }

    fn options() -> LinkOptions {
        LinkOptions {
            u_samples: 10_000,
            ..LinkOptions::default()
        }
    }

    /// Background so the model has something to estimate from.
    fn crowd(start: i64) -> Vec<LinkRow> {
        let firsts = [
            "مریم",
            "فاطمه",
            "زهرا",
            "سارا",
            "لیلا",
            "نرگس",
            "مینا",
            "شیرین",
        ];
        let lasts = [
            "احمدی",
            "رضایی",
            "کریمی",
            "حسینی",
            "موسوی",
            "جعفری",
            "صادقی",
        ];
        let mut out = Vec::new();
        let mut id = start;
        for (i, f) in firsts.iter().enumerate() {
            for (j, l) in lasts.iter().enumerate() {
                let code =
                    hamdeli_text::NationalCode::generate((i * 10 + j + 2) as u64).to_string();
                let mut r = row(id, None, Some(&code), f, l);
                r.birth_date = Some(format!("19{}-0{}-1{}", 60 + i, 1 + j, i));
                r.phone = Some(format!("0912{:07}", id));
                out.push(r);
                id += 1;
            }
        }
        out
    }

    /// Issue 18: relief rows already in the registry carry the head's code on every member
    /// (their relation unknown here); a roster arrives with each member under their own code
    /// and the relations. Each member's roster row joins the member's person, not the head's.
    #[test]
    fn members_under_the_heads_code_join_their_own_rows_not_the_head() {
        let head = hamdeli_text::NationalCode::generate(900).to_string();
        let mut rows = crowd(100);
        for r in rows.iter_mut() {
            r.person_id = Some(r.id + 1000);
        }
        let members = [
            ("محمدجواد", "1986-05-01", "male", "head", head.clone()),
            (
                "زینب",
                "1988-06-30",
                "female",
                "spouse",
                hamdeli_text::NationalCode::generate(901).to_string(),
            ),
            (
                "علی",
                "2010-09-25",
                "male",
                "child",
                hamdeli_text::NationalCode::generate(902).to_string(),
            ),
        ];
        for (i, (first, birth, gender, _, _)) in members.iter().enumerate() {
            let mut r = row(
                10 + i as i64,
                Some(7000 + i as i64),
                Some(&head),
                first,
                "رضایی",
            );
            r.birth_date = Some((*birth).into());
            r.gender = Some((*gender).into());
            rows.push(r);
        }
        let mut relations: Vec<Option<&str>> = vec![None; rows.len()];
        for (i, (first, birth, gender, relation, own)) in members.iter().enumerate() {
            let mut r = row(-(i as i64) - 1, None, Some(own), first, "رضایی");
            r.birth_date = Some((*birth).into());
            r.gender = Some((*gender).into());
            rows.push(r);
            relations.push(Some(relation));
        }
        let (plan, _, _) = plan_related(
            &rows,
            &relations,
            &HashSet::new(),
            &HashSet::new(),
            &options(),
        );
        let joins: HashMap<i64, i64> = plan.joins.iter().copied().collect();
        assert_eq!(joins.get(&-1), Some(&7000), "{plan:?}");
        assert_eq!(joins.get(&-2), Some(&7001), "{plan:?}");
        assert_eq!(joins.get(&-3), Some(&7002), "{plan:?}");
    }

    /// Relations of records already in the registry count (their `LinkRow::relation`, from
    /// their facts), and the plan keeps `code_borrowed` equal to the engine's decision: a
    /// child's row under its mother's code that the registry had not marked is marked (its
    /// person shows its values chosen again), and a row marked without reason is unmarked.
    #[test]
    fn the_registry_s_relations_count_and_borrowed_codes_follow_the_engine() {
        let mother = hamdeli_text::NationalCode::generate(910).to_string();
        let mut rows = crowd(100);
        for r in rows.iter_mut() {
            r.person_id = Some(r.id + 1000);
        }
        rows[0].code_borrowed = true;
        let stale = rows[0].id;
        let mut head = row(10, Some(7000), Some(&mother), "طاهره", "نوروزی");
        head.relation = Some("head".into());
        let mut child = row(11, Some(7001), Some(&mother), "امیرحسین", "نوروزی");
        child.birth_date = Some("2006-08-24".into());
        child.gender = Some("male".into());
        child.relation = Some("child".into());
        rows.extend([head, child]);
        // A new row of the child under his own code, no relation.
        let own_code = hamdeli_text::NationalCode::generate(911).to_string();
        let mut own = row(-1, None, Some(&own_code), "امیرحسین", "نوروزی");
        own.birth_date = Some("2006-08-24".into());
        own.gender = Some("male".into());
        rows.push(own);
        let (plan, _, _) = plan(&rows, &HashSet::new(), &HashSet::new(), &options());
        assert_eq!(plan.joins, vec![(-1, 7001)], "{plan:?}");
        let mut changes = plan.borrowed_codes.clone();
        changes.sort_unstable();
        assert_eq!(changes, vec![(11, true), (stale, false)]);
        assert!(plan.refresh.contains(&7001) && plan.refresh.contains(&(stale + 1000)));
    }

    #[test]
    fn a_new_record_joins_the_existing_person_and_ids_stay() {
        let code = hamdeli_text::NationalCode::generate(777).to_string();
        let mut rows = crowd(100);
        for r in rows.iter_mut() {
            r.person_id = Some(r.id + 1000);
        }
        rows.push(row(1, Some(5000), Some(&code), "زهرا", "کاظمی"));
        rows.push(row(2, None, Some(&code), "زهرا", "كاظمي"));
        let (plan, _, _) = plan(&rows, &HashSet::new(), &HashSet::new(), &options());
        assert_eq!(plan.joins, vec![(2, 5000)]);
        assert!(plan.new_persons.is_empty());
    }

    #[test]
    fn different_valid_codes_never_join_and_go_to_review() {
        let a = hamdeli_text::NationalCode::generate(777).to_string();
        let b = hamdeli_text::NationalCode::generate(778).to_string();
        let mut rows = crowd(100);
        rows.push(row(1, Some(5000), Some(&a), "زهرا", "کاظمی"));
        rows.push(row(2, None, Some(&b), "زهرا", "کاظمی"));
        let (plan, _, _) = plan(&rows, &HashSet::new(), &HashSet::new(), &options());
        assert!(plan.joins.iter().all(|&(r, _)| r != 2));
        assert!(plan.new_persons.iter().any(|p| p == &vec![2]));
    }

    #[test]
    fn a_separated_pair_never_rejoins() {
        let code = hamdeli_text::NationalCode::generate(777).to_string();
        let mut rows = crowd(100);
        rows.push(row(1, Some(5000), Some(&code), "زهرا", "کاظمی"));
        rows.push(row(2, None, Some(&code), "زهرا", "کاظمی"));
        let separated: HashSet<(i64, i64)> = [(1, 2)].into();
        let (plan, _, _) = plan(&rows, &separated, &HashSet::new(), &options());
        assert!(plan.joins.iter().all(|&(r, _)| r != 2));
        assert!(
            plan.reviews
                .iter()
                .all(|r| (r.record_a, r.record_b) != (1, 2))
        );
    }

    #[test]
    fn two_existing_persons_are_not_merged_by_a_new_record() {
        let mut rows = crowd(100);
        for r in rows.iter_mut() {
            r.person_id = Some(r.id + 1000);
        }
        rows.push(row(1, Some(5000), None, "زهرا", "کاظمی"));
        rows.push(row(2, Some(6000), None, "زهرا", "کاظمی"));
        rows.push(row(3, None, None, "زهرا", "کاظمی"));
        let (plan, _, _) = plan(&rows, &HashSet::new(), &HashSet::new(), &options());
        assert_eq!(plan.joins.len(), 1, "{plan:?}");
        assert!(plan.new_persons.is_empty());
        assert!(plan.reviews.iter().any(|r| r.reason == "person_conflict"));
    }

    #[test]
    fn same_registry_same_plan() {
        let rows = crowd(1);
        let a = plan(&rows, &HashSet::new(), &HashSet::new(), &options()).0;
        let b = plan(&rows, &HashSet::new(), &HashSet::new(), &options()).0;
        assert_eq!(a.new_persons, b.new_persons);
        assert_eq!(a.new_persons.len(), rows.len());
    }
}
