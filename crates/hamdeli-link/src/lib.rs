//! Record linkage for Persian registry lists (issue 3 item 4): which records, within and across
//! organisations' lists, are one person.
//!
//! ```
//! use hamdeli_link::{link, LinkOptions, RawRecord, RecordSet};
//! let mut set = RecordSet::new();
//! for (source, first) in [(0, "زهرا"), (1, "زهرا"), (1, "مریم")] {
//!     set.push_raw(source, &RawRecord {
//!         national_code: Some("0010350829").filter(|_| first == "زهرا" && source == 0),
//!         first_name: Some(first),
//!         last_name: Some("احمدي"),
//!         birth_date: Some("1360/05/12"),
//!         ..Default::default()
//!     });
//! }
//! let result = link(&set, &LinkOptions::default(), &|_, _, _| {});
//! assert_eq!(result.cluster_of.len(), 3);
//! ```
//!
//! 1. **Records** ([`RecordSet`]): raw strings are normalised with `hamdeli-text` (name keys and
//!    phonetic keys, national code with check digit, mobile, Jalali birth date, places); names
//!    and places are interned, so a record is a few integers.
//! 2. **Blocking** ([`block`]): candidate pairs share a national code; both names (in either
//!    order) and the birth year; the surname or the first name and the full birth date; the
//!    phone; both names and the father's name; or half of an invalid national code. A block
//!    larger than [`LinkOptions::max_block_size`] is sorted and paired only within a sliding
//!    window, so no block is ever quadratic; a pair found by an earlier rule is skipped by the
//!    later ones.
//! 3. **Comparison levels** per field ([`compare`]), each with a stable code such as
//!    `"national_code.one_digit_off"` or `"first_name.phonetic"`.
//! 4. **Weights estimated from the data** ([`model`]): a general Fellegi–Sunter model (`m` from
//!    records sharing a valid national code, `u` from random pairs, term frequency for names)
//!    and a family model that keeps siblings and twins apart.
//! 5. **Clustering** ([`cluster`]): pairs at or above [`LinkOptions::threshold`], most probable
//!    first, never two different valid national codes in one person.
//!
//! Same input, same output: the stages order records by their content (the input position only
//! breaks ties between identical records), never by thread timing or hash-map order; the same
//! records in another order give the same partition.
//!
//! Parallel with rayon (the global pool; run `link` inside `ThreadPool::install` to bound it).

pub mod block;
pub mod cluster;
pub mod compare;
pub mod model;
pub mod person;
pub mod record;

use std::time::{Duration, Instant};

use rayon::prelude::*;

pub use block::RuleStats;
pub use cluster::Decision;
pub use compare::{
    BirthLevel, CodeLevel, Evidence, FIELDS, Field, NameLevel, PlaceLevel, SimpleLevel,
};
pub use model::{LevelWeight, Model, Strength, Training, Weights};
pub use person::{FullName, Relation, parse_full_name, strip_honorifics};
pub use record::{
    Birth, Gender, LinkRecord, NameId, NameRole, Names, PhoneticId, PlaceId, Places, RawRecord,
    RecordSet,
};

use compare::{CODE_VETO, NONE, Rec, code_number};
use record::mix64;

#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Pairs with a match probability at or above this are the same person.
    pub threshold: f64,
    /// Blocks with more records than this are paired only within a sliding window.
    pub max_block_size: usize,
    /// How many following records each record of an oversized block is paired with.
    pub window: usize,
    /// Scored pairs below this probability are not returned (they are still counted).
    pub keep_pairs_above: f64,
    /// Random pairs sampled to estimate `u`.
    pub u_samples: usize,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            threshold: 0.9,
            max_block_size: 32,
            window: 10,
            keep_pairs_above: 0.05,
            u_samples: 1_000_000,
        }
    }
}

/// The stages of [`link`], reported to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Prepare,
    Block,
    Compare,
    Estimate,
    Score,
    Cluster,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Prepare => "prepare",
            Stage::Block => "block",
            Stage::Compare => "compare",
            Stage::Estimate => "estimate",
            Stage::Score => "score",
            Stage::Cluster => "cluster",
        }
    }
}

/// A compared pair of records (indices into the record set, `a < b`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPair {
    pub a: u32,
    pub b: u32,
    /// Match probability (0 when the national codes veto).
    pub probability: f64,
    /// Log2 odds of a match; two different valid national codes count 0 here (they veto
    /// instead), so a vetoed pair shows what the other fields say.
    pub weight: f64,
    pub evidence: Evidence,
    /// The family model (could they be two relatives?) decided the weight rather than the
    /// general one; explain with [`Model::weight`]`(true, …)`.
    pub family: bool,
    pub decision: Decision,
}

#[derive(Debug, Clone, Default)]
pub struct LinkStats {
    pub records: u64,
    pub candidate_pairs: u64,
    pub rules: Vec<RuleStats>,
    pub pairs_above_threshold: u64,
    pub merges: u64,
    pub refused: u64,
    pub clusters: u64,
    /// Wall time of each stage.
    pub timings: Vec<(Stage, Duration)>,
}

#[derive(Debug, Clone)]
pub struct LinkResult {
    /// The cluster (person) of each record: dense from 0, numbered in order of each cluster's
    /// first record.
    pub cluster_of: Vec<u32>,
    /// Scored pairs at or above [`LinkOptions::keep_pairs_above`], and vetoed or refused pairs
    /// that were otherwise above the threshold; sorted by `(a, b)`.
    pub pairs: Vec<ScoredPair>,
    pub model: Model,
    pub stats: LinkStats,
    /// Records (input indices, ascending) whose valid national code was taken as their
    /// household head's, not their own: a dependant listed under the head's code (its relation
    /// says so, and the same code is on a clearly different person's row). Linkage treated them
    /// as rows without a code; a caller that checks "one valid code per person" should too.
    pub released_codes: Vec<u32>,
}

impl Model {
    /// The weight of each field of a scored pair, in bits, as the pair was judged (term
    /// frequency included for exact names in the general model).
    pub fn explain(&self, set: &RecordSet, pair: &ScoredPair) -> Vec<LevelWeight> {
        let a = &set.records()[pair.a as usize];
        let names = set.names();
        let totals = |role: NameRole| names.total(role) as f64;
        Field::ALL
            .iter()
            .filter(|f| {
                !pair.family || model::FAMILY_FIELDS.contains(f) || **f == Field::NationalCode
            })
            .map(|&field| {
                let level = pair.evidence.level(field);
                let w = if pair.family && field != Field::NationalCode {
                    &self.family
                } else {
                    &self.general
                };
                let (f, l) = (field as usize, level as usize);
                let mut bits = self.weight(pair.family, field, level);
                let (mut m, mut u) = (w.m[f][l], w.u[f][l]);
                let tf = match field {
                    Field::FirstName => Some((a.first, NameRole::First)),
                    Field::LastName => Some((a.last, NameRole::Last)),
                    Field::FatherName => Some((a.father, NameRole::Father)),
                    _ => None,
                };
                if let (false, Some((id, role)), true) =
                    (pair.family, tf, level == compare::NAME_EXACT)
                {
                    let share = f64::from(names.count(id, role)) / totals(role).max(1.0);
                    u = share.max(self.tf_floor);
                    m = self.general.m[f][l];
                    bits = (m / u).log2();
                }
                if level == 0 {
                    (m, u) = (0.0, 0.0);
                }
                LevelWeight {
                    field,
                    level,
                    code: field.level_code(level),
                    m,
                    u,
                    bits,
                    strength: Strength::of(bits),
                }
            })
            .collect()
    }
}

/// The records as the stages see them: reduced to numbers and reordered by surname and first
/// name (content, not input position), so that the records of one candidate pair are mostly
/// near each other in memory.
pub(crate) struct Prepared<'a> {
    pub recs: Vec<Rec>,
    /// Content hash of each record: orders records independently of their position.
    pub hash: Vec<u64>,
    /// Input index of each internal index.
    pub perm: Vec<u32>,
    pub names: &'a Names,
    /// Input indices of the records whose code was the household's ([`release_borrowed_codes`]).
    pub released: Vec<u32>,
}

fn prepare(set: &RecordSet) -> Prepared<'_> {
    let names = set.names();
    let places = set.places();
    let recs: Vec<Rec> = set
        .records()
        .par_iter()
        .map(|r| Rec {
            code: r.national_code.map_or(NONE, |c| code_number(&c.digits())),
            raw: r.national_code_digits.as_ref().map_or(NONE, code_number),
            phone: r.phone.map_or(0, |m| m.as_str().parse().unwrap_or(0)),
            first: r.first.0,
            last: r.last.0,
            father: r.father.0,
            first_ph: r.first_phonetic.0,
            last_ph: r.last_phonetic.0,
            father_ph: r.father_phonetic.0,
            birth: r.birth.map_or(0, |b| b.packed()),
            province: r.province.0,
            county: r.county.0,
            gender: match r.gender {
                None => 0,
                Some(Gender::Female) => 1,
                Some(Gender::Male) => 2,
            },
            relation: r.relation.map_or(0, |x| x as u8),
            whole: compare::whole_name_key(names, r.first, r.last),
        })
        .collect();
    let mut recs = recs;
    let released = release_borrowed_codes(&mut recs, names);
    let hash = set
        .records()
        .par_iter()
        .zip(recs.par_iter())
        .map(|(r, x)| {
            let parts = [
                u64::from(r.source),
                x.code,
                x.raw,
                x.phone,
                names.hash(r.first),
                names.hash(r.last),
                names.hash(r.father),
                u64::from(x.birth) << 8 | u64::from(x.gender) | u64::from(x.relation) << 4,
                places.hash(r.province),
                places.hash(r.county),
            ];
            parts
                .iter()
                .fold(0x51_7cc1_b727_220a_u64, |h, &v| mix64(h ^ v).rotate_left(5))
        })
        .collect();
    let ph = |id: u32| names.phonetic_hash(PhoneticId(id));
    let hash: Vec<u64> = hash;
    let mut order: Vec<(u64, u64, u64, u32)> = recs
        .par_iter()
        .zip(hash.par_iter())
        .enumerate()
        .map(|(i, (r, &h))| (ph(r.last_ph), ph(r.first_ph), h, i as u32))
        .collect();
    order.par_sort_unstable();
    let perm: Vec<u32> = order.into_iter().map(|o| o.3).collect();
    let recs = perm.par_iter().map(|&i| recs[i as usize]).collect();
    let hash = perm.par_iter().map(|&i| hash[i as usize]).collect();
    Prepared {
        recs,
        hash,
        perm,
        names,
        released,
    }
}

/// Dependants listed under the head of household's national code: a row whose valid code
/// another, clearly different person's row also carries, and whose relation to the head is not
/// "head" (or which says nothing while the other row says it is the head), is linked as a row
/// without a code (the code is the household's, not the row's). Its own records elsewhere,
/// under its own code, can then join it.
fn release_borrowed_codes(recs: &mut [Rec], names: &Names) -> Vec<u32> {
    let mut by_code: Vec<(u64, u32)> = recs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.code != NONE)
        .map(|(i, r)| (r.code, i as u32))
        .collect();
    by_code.par_sort_unstable();
    let mut borrowed: Vec<u32> = Vec::new();
    let mut s = 0;
    while s < by_code.len() {
        let mut e = s + 1;
        while e < by_code.len() && by_code[e].0 == by_code[s].0 {
            e += 1;
        }
        let group = &by_code[s..e];
        // Large groups are not households (a code typed on many rows by mistake): leave them.
        if (2..=64).contains(&group.len()) && group.iter().any(|x| recs[x.1 as usize].relation != 0)
        {
            for &(_, m) in group {
                let rm = &recs[m as usize];
                if group
                    .iter()
                    .any(|&(_, o)| o != m && compare::borrowed_code(rm, &recs[o as usize], names))
                {
                    borrowed.push(m);
                }
            }
        }
        s = e;
    }
    for &m in &borrowed {
        let r = &mut recs[m as usize];
        r.code = NONE;
        r.raw = NONE;
    }
    borrowed.sort_unstable();
    borrowed
}

fn probability(w: f64) -> f64 {
    1.0 / (1.0 + (-w).exp2())
}

/// Links the records: which are one person. `progress(stage, done, total)` is called from the
/// calling thread as stages start and advance.
pub fn link(
    set: &RecordSet,
    options: &LinkOptions,
    progress: &dyn Fn(Stage, u64, u64),
) -> LinkResult {
    let n = set.len();
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |stage: Stage, timings: &mut Vec<(Stage, Duration)>| {
        timings.push((stage, clock.elapsed()));
        clock = Instant::now();
    };

    progress(Stage::Prepare, 0, n as u64);
    let p = prepare(set);
    lap(Stage::Prepare, &mut timings);

    progress(Stage::Block, 0, n as u64);
    let (pairs, rules) = block::candidates(&p, options.max_block_size, options.window);
    lap(Stage::Block, &mut timings);

    let total = pairs.len() as u64;
    progress(Stage::Compare, 0, total);
    let mut evidence: Vec<Evidence> = Vec::with_capacity(pairs.len());
    for (k, chunk) in pairs.chunks(1 << 20).enumerate() {
        let part: Vec<Evidence> = chunk
            .par_iter()
            .map(|&pair| {
                compare::compare(
                    &p.recs[(pair >> 32) as usize],
                    &p.recs[pair as u32 as usize],
                    p.names,
                )
            })
            .collect();
        evidence.extend_from_slice(&part);
        progress(
            Stage::Compare,
            ((k + 1) << 20).min(pairs.len()) as u64,
            total,
        );
    }
    lap(Stage::Compare, &mut timings);

    progress(Stage::Estimate, 0, 1);
    let model = model::estimate(&p, &pairs, &evidence, options.u_samples);
    lap(Stage::Estimate, &mut timings);

    progress(Stage::Score, 0, total);
    let scorer = model::Scorer::new(&model, &p);
    // Keep the pairs above `keep_pairs_above`, and the vetoed ones that would otherwise be above
    // the threshold: (candidate index, weight, family).
    let kept: Vec<(usize, f64, bool)> = pairs
        .par_iter()
        .zip(evidence.par_iter())
        .enumerate()
        .filter_map(|(k, (&pair, e))| {
            let (w, family) = scorer.score(&p.recs[(pair >> 32) as usize], e);
            let pr = probability(w);
            let keep = if e.0[0] == CODE_VETO {
                pr >= options.threshold
            } else {
                pr >= options.keep_pairs_above
            };
            keep.then_some((k, w, family))
        })
        .collect();
    lap(Stage::Score, &mut timings);

    progress(Stage::Cluster, 0, total);
    let kept_pairs: Vec<(u32, u32)> = kept
        .iter()
        .map(|&(k, _, _)| ((pairs[k] >> 32) as u32, pairs[k] as u32))
        .collect();
    // Best first; ties broken by the records' content, then by position.
    let mut ranked: Vec<(f64, u64, u64, u32, u32, usize)> = kept
        .iter()
        .enumerate()
        .filter(|(_, (k, w, _))| {
            evidence[*k].0[0] != CODE_VETO && probability(*w) >= options.threshold
        })
        .map(|(x, &(_, w, _))| {
            let (a, b) = kept_pairs[x];
            let (ha, hb) = (p.hash[a as usize], p.hash[b as usize]);
            (-w, ha.min(hb), ha.max(hb), a, b, x)
        })
        .collect();
    ranked.par_sort_unstable_by(|x, y| {
        x.0.total_cmp(&y.0)
            .then_with(|| (x.1, x.2, x.3, x.4).cmp(&(y.1, y.2, y.3, y.4)))
    });
    let order: Vec<usize> = ranked.iter().map(|r| r.5).collect();
    drop(ranked);
    let codes: Vec<u64> = p.recs.iter().map(|r| r.code).collect();
    let years: Vec<(u16, bool)> = p
        .recs
        .iter()
        .map(|r| ((r.birth >> 9) as u16, r.relation != 0))
        .collect();
    let (roots, decisions) = cluster::cluster(n, &codes, &years, &kept_pairs, &order);
    // Back to input positions.
    let mut internal = vec![0u32; n];
    for (x, &i) in p.perm.iter().enumerate() {
        internal[i as usize] = x as u32;
    }
    let cluster_of = cluster::dense(
        internal.iter().map(|&x| p.perm[roots[x as usize] as usize]),
        n,
    );
    let mut scored: Vec<ScoredPair> = kept
        .par_iter()
        .enumerate()
        .map(|(x, &(k, w, family))| {
            let veto = evidence[k].0[0] == CODE_VETO;
            let (a, b) = (
                p.perm[kept_pairs[x].0 as usize],
                p.perm[kept_pairs[x].1 as usize],
            );
            ScoredPair {
                a: a.min(b),
                b: a.max(b),
                probability: if veto { 0.0 } else { probability(w) },
                weight: w,
                evidence: evidence[k],
                family,
                decision: if veto { Decision::Vetoed } else { decisions[x] },
            }
        })
        .collect();
    scored.par_sort_unstable_by_key(|s| (s.a, s.b));
    lap(Stage::Cluster, &mut timings);

    let stats = LinkStats {
        records: n as u64,
        candidate_pairs: total,
        rules,
        pairs_above_threshold: order.len() as u64,
        merges: decisions.iter().filter(|d| **d == Decision::Merged).count() as u64,
        refused: decisions
            .iter()
            .filter(|d| **d == Decision::Refused)
            .count() as u64,
        clusters: cluster_of.iter().max().map_or(0, |m| u64::from(*m) + 1),
        timings,
    };
    progress(Stage::Cluster, total, total);
    LinkResult {
        cluster_of,
        pairs: scored,
        model,
        stats,
        released_codes: p.released,
    }
}

#[cfg(test)]
mod testgen;

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::testgen::{Row, lists, pairwise, population, record_set};

    fn quiet(_: Stage, _: u64, _: u64) {}

    fn code(n: u64) -> String {
        hamdeli_text::NationalCode::generate(n).as_str().to_owned()
    }

    /// Background lists so the model has something to learn from, plus extra rows.
    fn with_background(extra: &[Row]) -> (Vec<Row>, usize) {
        let mut rows = lists(&population(2500, 7), 7);
        let base = rows.len();
        rows.extend_from_slice(extra);
        (rows, base)
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        person: usize,
        code: Option<&str>,
        first: &str,
        last: &str,
        father: &str,
        birth: &str,
        phone: &str,
    ) -> Row {
        Row {
            source: 1,
            person,
            national_code: code.map(str::to_owned),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            father_name: Some(father.into()),
            birth_date: Some(birth.into()),
            gender: None,
            phone: Some(phone.into()),
            county: Some("تهران".into()),
        }
    }

    fn clusters_have_one_code(set: &RecordSet, cluster_of: &[u32]) {
        let mut code_of: HashMap<u32, hamdeli_text::NationalCode> = HashMap::new();
        for (i, r) in set.records().iter().enumerate() {
            if let Some(c) = r.national_code {
                let prev = code_of.insert(cluster_of[i], c);
                assert!(
                    prev.is_none() || prev == Some(c),
                    "cluster {} holds two valid codes",
                    cluster_of[i]
                );
            }
        }
    }

    #[test]
    fn end_to_end_on_generated_lists() {
        let people = population(8000, 1);
        let rows = lists(&people, 1);
        let set = record_set(&rows);
        let result = link(&set, &LinkOptions::default(), &quiet);
        assert_eq!(result.cluster_of.len(), rows.len());
        let truth: Vec<usize> = rows.iter().map(|r| r.person).collect();
        let (precision, recall) = pairwise(&result.cluster_of, &truth);
        assert!(precision > 0.99, "precision {precision}");
        assert!(recall > 0.97, "recall {recall}");
        clusters_have_one_code(&set, &result.cluster_of);
        // Dense ids in order of first appearance.
        let mut next = 0;
        for &c in &result.cluster_of {
            assert!(c <= next);
            if c == next {
                next += 1;
            }
        }
        assert!(!result.model.training.em);
        assert!(
            result
                .pairs
                .windows(2)
                .all(|w| (w[0].a, w[0].b) < (w[1].a, w[1].b))
        );
    }

    #[test]
    fn different_valid_codes_veto() {
        let (a, b) = (code(900_000_001), code(900_000_777));
        let extra = [
            row(
                1_000_001,
                Some(&a),
                "ترانه",
                "پاکدامن",
                "بهمن",
                "1370/03/15",
                "09121112233",
            ),
            row(
                1_000_002,
                Some(&b),
                "ترانه",
                "پاکدامن",
                "بهمن",
                "1370/03/15",
                "09121112233",
            ),
            // No code: may join one of them, never both.
            row(
                1_000_001,
                None,
                "ترانه",
                "پاکدامن",
                "بهمن",
                "1370/03/15",
                "09121112233",
            ),
        ];
        let (rows, base) = with_background(&extra);
        let set = record_set(&rows);
        let result = link(&set, &LinkOptions::default(), &quiet);
        let c = &result.cluster_of;
        assert_ne!(c[base], c[base + 1]);
        assert!(c[base + 2] == c[base] || c[base + 2] == c[base + 1]);
        let vetoed = result
            .pairs
            .iter()
            .find(|p| (p.a as usize, p.b as usize) == (base, base + 1));
        let vetoed = vetoed.expect("the vetoed pair is reported");
        assert_eq!(vetoed.decision, Decision::Vetoed);
        assert_eq!(vetoed.probability, 0.0);
        assert_eq!(
            vetoed.evidence.national_code(),
            CodeLevel::BothValidDifferent
        );
        assert!(result.pairs.iter().any(|p| p.decision == Decision::Refused));
        clusters_have_one_code(&set, c);
    }

    #[test]
    fn twins_stay_apart() {
        let (a, b) = (code(900_001_001), code(900_001_555));
        let extra = [
            row(
                1_000_011,
                Some(&a),
                "ترانه",
                "پاکدامن",
                "بهمن",
                "1370/03/15",
                "09121112233",
            ),
            row(
                1_000_012,
                Some(&b),
                "نیلوفر",
                "پاکدامن",
                "بهمن",
                "1370/03/15",
                "09121112233",
            ),
            row(
                1_000_011,
                None,
                "ترانه",
                "پاكدامن",
                "بهمن",
                "۱۳۷۰/۰۳/۱۵",
                "09121112233",
            ),
            row(
                1_000_012,
                None,
                "نيلوفر",
                "پاکدامن",
                "بهمن",
                "1370-3-15",
                "+989121112233",
            ),
        ];
        let (rows, base) = with_background(&extra);
        let set = record_set(&rows);
        let result = link(
            &set,
            &LinkOptions {
                keep_pairs_above: 0.0,
                ..Default::default()
            },
            &quiet,
        );
        let c = &result.cluster_of;
        assert_eq!(c[base], c[base + 2], "the same twin's records merge");
        assert_eq!(c[base + 1], c[base + 3], "the same twin's records merge");
        assert_ne!(c[base], c[base + 1], "twins merged");
        let twins = result
            .pairs
            .iter()
            .find(|p| (p.a as usize, p.b as usize) == (base + 2, base + 3))
            .expect("the two code-less twins are compared");
        assert!(
            twins.probability < 0.5,
            "twins scored {}",
            twins.probability
        );
        assert_eq!(twins.evidence.first_name(), NameLevel::Different);
    }

    #[test]
    fn typo_in_code_and_arabic_letters_merge() {
        let good = code(900_002_001);
        let mut typo: Vec<char> = good.chars().collect();
        typo[9] = if typo[9] == '1' { '2' } else { '1' };
        let typo: String = typo.into_iter().collect();
        assert!(matches!(record::parse_code(&typo), Some(Err(_))));
        let extra = [
            row(
                1_000_021,
                Some(&good),
                "یاسمین",
                "کیانی‌فر",
                "کیکاووس",
                "1358/07/09",
                "09351234567",
            ),
            Row {
                source: 2,
                gender: Some("زن".into()),
                phone: None,
                ..row(
                    1_000_021,
                    Some(&typo),
                    "ياسمين",
                    "كياني فر",
                    "كيكاووس",
                    "۱۳۵۸/۰۷/۰۹",
                    "",
                )
            },
        ];
        let (rows, base) = with_background(&extra);
        let set = record_set(&rows);
        let result = link(&set, &LinkOptions::default(), &quiet);
        assert_eq!(result.cluster_of[base], result.cluster_of[base + 1]);
        let pair = result
            .pairs
            .iter()
            .find(|p| (p.a as usize, p.b as usize) == (base, base + 1))
            .expect("compared");
        assert_eq!(pair.evidence.national_code(), CodeLevel::OneDigitOff);
        assert_eq!(pair.evidence.first_name(), NameLevel::Exact);
        assert_eq!(pair.evidence.last_name(), NameLevel::Exact);
        assert!(pair.probability >= 0.9);
        let explained = result.model.explain(&set, pair);
        assert!(
            explained
                .iter()
                .any(|w| w.code == "national_code.one_digit_off" && w.bits > 5.0)
        );
    }

    fn partition(cluster_of: &[u32], original: &[usize]) -> HashSet<Vec<usize>> {
        let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, &c) in cluster_of.iter().enumerate() {
            groups.entry(c).or_default().push(original[i]);
        }
        groups
            .into_values()
            .map(|mut g| {
                g.sort_unstable();
                g
            })
            .collect()
    }

    #[test]
    fn same_input_same_output_in_any_order() {
        let rows = lists(&population(3000, 3), 3);
        let set = record_set(&rows);
        let x = link(&set, &LinkOptions::default(), &quiet);
        let y = link(&record_set(&rows), &LinkOptions::default(), &quiet);
        assert_eq!(x.cluster_of, y.cluster_of);
        assert_eq!(x.pairs, y.pairs);
        assert_eq!(x.model, y.model);
        // Shuffled: the same partition of the rows.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut rng = testgen::Rng::new(99);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let shuffled: Vec<Row> = order.iter().map(|&i| rows[i].clone()).collect();
        let z = link(&record_set(&shuffled), &LinkOptions::default(), &quiet);
        let identity: Vec<usize> = (0..rows.len()).collect();
        assert_eq!(
            partition(&x.cluster_of, &identity),
            partition(&z.cluster_of, &order)
        );
    }

    /// A household whose relief list writes the head's code on every member's row, with the
    /// relation to the head; the roster lists each member under their own code.
    #[test]
    fn dependants_under_the_heads_code_are_not_the_head() {
        let (rows, _) = with_background(&[]);
        let mut set = record_set(&rows);
        let (head, child, child2, wife) = (
            code(900_010_001),
            code(900_010_017),
            code(900_010_033),
            code(900_010_049),
        );
        fn raw<'a>(
            c: &'a str,
            first: &'a str,
            father: &'a str,
            birth: &'a str,
            g: &'a str,
        ) -> RawRecord<'a> {
            RawRecord {
                national_code: Some(c),
                first_name: Some(first),
                last_name: Some("رضایی"),
                father_name: Some(father),
                birth_date: Some(birth),
                gender: Some(g),
                phone: Some("09125550001"),
                county: Some("تهران"),
                ..Default::default()
            }
        }
        // The relief list: all under the head's code.
        let r_head = set.push_raw_related(
            5,
            &raw(&head, "محمدجواد", "حسن", "1369/02/11", "مرد"),
            Some("سرپرست"),
        );
        let r_child = set.push_raw_related(
            5,
            &raw(&head, "علی", "محمدجواد", "1391/07/03", "مرد"),
            Some("فرزند"),
        );
        let r_child2 = set.push_raw_related(
            5,
            &raw(&head, "حسین", "محمد جواد", "1393/01/20", "مرد"),
            Some("پسر"),
        );
        let r_wife = set.push_raw_related(
            5,
            &raw(&head, "زهرا", "رضا", "1371/04/09", "زن"),
            Some("همسر"),
        );
        // The roster: own codes.
        let o_head = set.push_raw_related(
            6,
            &raw(&head, "محمد جواد", "حسن", "1369/02/11", "مرد"),
            Some("سرپرست خانوار"),
        );
        let o_child = set.push_raw_related(
            6,
            &raw(&child, "علي", "محمدجواد", "1391/07/03", "مرد"),
            Some("فرزند"),
        );
        let o_child2 = set.push_raw_related(
            6,
            &raw(&child2, "حسین", "محمدجواد", "1393/01/20", "مرد"),
            Some("فرزند"),
        );
        let o_wife = set.push_raw_related(
            6,
            &raw(&wife, "زهرا", "رضا", "1371/04/09", "زن"),
            Some("همسر"),
        );
        let result = link(&set, &LinkOptions::default(), &quiet);
        let c = &result.cluster_of;
        let at = |i: u32| c[i as usize];
        assert_eq!(at(r_head), at(o_head), "the head's two rows are one person");
        for (r, o) in [(r_child, o_child), (r_child2, o_child2), (r_wife, o_wife)] {
            assert_eq!(at(r), at(o), "a member's rows are one person");
            assert_ne!(at(r), at(r_head), "a member is not the head");
        }
        assert_ne!(at(r_child), at(r_child2), "two children are two people");
        assert_ne!(at(r_child), at(r_wife));
        assert_eq!(result.released_codes, vec![r_child, r_child2, r_wife]);
        // A pair of the relief list shares the code but weighs it as household evidence.
        let pair = result
            .pairs
            .iter()
            .find(|p| (p.a, p.b) == (r_head, r_child))
            .map(|p| p.evidence.national_code());
        assert!(matches!(pair, None | Some(CodeLevel::Missing)), "{pair:?}");
        clusters_have_one_code_except(&set, c, &result.released_codes);
    }

    fn clusters_have_one_code_except(set: &RecordSet, cluster_of: &[u32], released: &[u32]) {
        let mut code_of: HashMap<u32, hamdeli_text::NationalCode> = HashMap::new();
        for (i, r) in set.records().iter().enumerate() {
            if released.contains(&(i as u32)) {
                continue;
            }
            if let Some(c) = r.national_code {
                let prev = code_of.insert(cluster_of[i], c);
                assert!(prev.is_none() || prev == Some(c), "two codes in a cluster");
            }
        }
    }

    /// Without a relation column: rows sharing a code but a generation apart, of another sex
    /// or with clearly different first names are never merged on the code alone, and the
    /// shared code is not learned from.
    #[test]
    fn a_shared_code_across_generations_is_household_evidence() {
        let (rows, base) = with_background(&[
            row(
                1,
                Some(&code(900_011_001)),
                "محمدجواد",
                "کاظمی",
                "حسن",
                "1369/02/11",
                "09125550002",
            ),
            row(
                2,
                Some(&code(900_011_001)),
                "علی",
                "کاظمی",
                "محمدجواد",
                "1391/07/03",
                "09125550002",
            ),
            row(
                3,
                Some(&code(900_011_001)),
                "مریم",
                "کاظمی",
                "محمدجواد",
                "1391/07/03",
                "09125550002",
            ),
        ]);
        let set = record_set(&rows);
        let result = link(
            &set,
            &LinkOptions {
                keep_pairs_above: 0.0,
                ..Default::default()
            },
            &quiet,
        );
        let c = &result.cluster_of;
        assert_ne!(c[base], c[base + 1]);
        assert_ne!(c[base], c[base + 2]);
        assert_ne!(c[base + 1], c[base + 2], "twins with different first names");
        for p in result.pairs.iter().filter(|p| p.a as usize >= base) {
            assert_eq!(p.evidence.national_code(), CodeLevel::Household, "{p:?}");
            assert!(p.probability < 0.5, "{p:?}");
        }
        assert_eq!(
            result
                .model
                .describe(false)
                .iter()
                .find(|l| l.code == "national_code.household")
                .map(|l| l.bits),
            Some(0.0)
        );
    }

    /// A charity sheet's full names, in either order, with honorifics and compound names apart
    /// or together, link to the same people's rows elsewhere when the county and a birth year
    /// or a father's name agree; names and county alone are a review item at most.
    #[test]
    fn full_names_link_with_county_and_one_more_field() {
        let (rows, _) = with_background(&[]);
        let mut set = record_set(&rows);
        let person = |set: &mut RecordSet, first: &str, father: &str, birth: &str| {
            set.push_raw(
                4,
                &RawRecord {
                    first_name: Some(first),
                    last_name: Some("قربانی"),
                    father_name: Some(father).filter(|f| !f.is_empty()),
                    birth_date: Some(birth).filter(|b| !b.is_empty()),
                    county: Some("سبزوار"),
                    ..Default::default()
                },
            )
        };
        let listed = person(&mut set, "براتعلی", "غلامرضا", "1352/03/14");
        let charity =
            |set: &mut RecordSet, full: &str, father: Option<&str>, birth: Option<&str>| {
                set.push_raw(
                    7,
                    &RawRecord {
                        full_name: Some(full),
                        father_name: father,
                        birth_date: birth,
                        county: Some("سبزوار"),
                        ..Default::default()
                    },
                )
            };
        let linked = [
            charity(&mut set, "برات علی قربانی", None, Some("1352")),
            charity(&mut set, "قربانی برات‌علی", None, Some("1352/03/14")),
            charity(
                &mut set,
                "کربلایی براتعلی قربانی",
                Some("غلامرضا"),
                Some("1352"),
            ),
        ];
        // The father's name alone beside the names: a brother has it too; at least a review.
        let by_father = [
            charity(&mut set, "قربانی، براتعلی", Some("غلام رضا"), None),
            charity(&mut set, "کربلایی برات علی قربانی", Some("غلامرضا"), None),
        ];
        let alone = charity(&mut set, "براتعلی قربانی", None, None);
        let other = charity(&mut set, "نبی الله قربانی", None, Some("1352"));
        let result = link(
            &set,
            &LinkOptions {
                keep_pairs_above: 0.0,
                ..Default::default()
            },
            &quiet,
        );
        let c = &result.cluster_of;
        for x in linked {
            assert_eq!(c[x as usize], c[listed as usize], "row {x}");
        }
        for x in by_father {
            let pair = result.pairs.iter().find(|p| (p.a, p.b) == (listed, x));
            assert!(pair.is_some_and(|p| p.probability >= 0.5), "{pair:?}");
        }
        assert_ne!(c[other as usize], c[listed as usize]);
        let review = result
            .pairs
            .iter()
            .find(|p| (p.a, p.b) == (listed, alone))
            .expect("names and county are compared");
        assert!(
            (0.5..0.9).contains(&review.probability),
            "names and county alone: {}",
            review.probability
        );
    }

    #[test]
    fn tiny_inputs() {
        let empty = link(&RecordSet::new(), &LinkOptions::default(), &quiet);
        assert!(empty.cluster_of.is_empty() && empty.pairs.is_empty());
        let rows = [row(
            1,
            Some(&code(900_003_001)),
            "سارا",
            "نوری",
            "علی",
            "1360/01/02",
            "09120000001",
        )];
        let one = link(&record_set(&rows), &LinkOptions::default(), &quiet);
        assert_eq!(one.cluster_of, vec![0]);
        let rows = [rows[0].clone(), rows[0].clone()];
        let two = link(&record_set(&rows), &LinkOptions::default(), &quiet);
        assert_eq!(two.cluster_of, vec![0, 0]);
        assert!(two.model.training.em);
    }

    #[test]
    fn explanations_add_up_to_the_weight() {
        let rows = lists(&population(2000, 11), 11);
        let set = record_set(&rows);
        let options = LinkOptions {
            keep_pairs_above: 0.0,
            ..Default::default()
        };
        let result = link(&set, &options, &quiet);
        let logit = |p: f64| (p / (1.0 - p)).log2();
        let mut checked = 0;
        for pair in result
            .pairs
            .iter()
            .filter(|p| p.decision != Decision::Vetoed)
        {
            let bits: f64 = result
                .model
                .explain(&set, pair)
                .iter()
                .map(|w| w.bits)
                .sum();
            let prior = if pair.family {
                result.model.family_prior
            } else {
                result.model.prior
            };
            if pair.evidence.family_context() {
                // Both models weigh in; the combined odds are below either one's.
                assert!(logit(prior) + bits >= pair.weight - 1e-3, "{pair:?}");
            } else {
                assert!(!pair.family);
                assert!((logit(prior) + bits - pair.weight).abs() < 1e-3, "{pair:?}");
                checked += 1;
            }
        }
        assert!(checked > 100);
    }

    #[test]
    fn batch_and_single_pushes_agree() {
        let rows = lists(&population(300, 13), 13);
        let one = record_set(&rows);
        let mut batch = RecordSet::new();
        for source in 0..3u16 {
            let raws: Vec<RawRecord<'_>> = rows
                .iter()
                .filter(|r| r.source == source)
                .map(Row::raw)
                .collect();
            batch.extend_raw(source, &raws);
        }
        let mut sorted: Vec<&Row> = rows.iter().collect();
        sorted.sort_by_key(|r| r.source);
        assert_eq!(
            rows.iter().map(|r| r.source).collect::<Vec<_>>(),
            sorted.iter().map(|r| r.source).collect::<Vec<_>>()
        );
        assert_eq!(one.records(), batch.records());
    }

    #[test]
    fn model_explains_in_stable_codes() {
        let rows = lists(&population(2000, 5), 5);
        let result = link(&record_set(&rows), &LinkOptions::default(), &quiet);
        let general = result.model.describe(false);
        let w = |code: &str| general.iter().find(|l| l.code == code).expect(code).bits;
        assert!(w("national_code.equal") > 10.0);
        assert!(w("first_name.different") < -4.0);
        assert!(w("birth_date.exact") > w("birth_date.one_part_off"));
        assert!(w("first_name.exact") > w("first_name.edit2"));
        assert_eq!(w("last_name.swapped"), 0.0);
        let family = result.model.describe(true);
        assert!(
            family
                .iter()
                .all(|l| l.field != Field::LastName && l.field != Field::FatherName)
        );
    }
}

#[cfg(test)]
mod whole_name_tests {
    use super::*;

    /// A charity row «محمد پور سکینه» (surname first, written apart) under the same code as the
    /// roster's «سکینه محمدپور»: the whole names agree, split at different places, so the code
    /// is identity evidence and the rows are one person.
    #[test]
    fn a_full_name_split_elsewhere_keeps_its_code() {
        let rows = crate::testgen::lists(&crate::testgen::population(2000, 7), 7);
        let mut set = crate::testgen::record_set(&rows);
        let a = set.push_raw_related(
            5,
            &RawRecord {
                national_code: Some("4306590860"),
                first_name: Some("سکینه"),
                last_name: Some("محمدپور"),
                father_name: Some("غلامعباس"),
                birth_date: Some("1364/08/15"),
                county: Some("زاهدان"),
                ..Default::default()
            },
            Some("head"),
        );
        let b = set.push_raw(
            6,
            &RawRecord {
                national_code: Some("4306590860"),
                full_name: Some("محمد پور سكينه"),
                county: Some("زاهدان"),
                ..Default::default()
            },
        );
        let result = link(&set, &LinkOptions::default(), &|_, _, _| {});
        assert!(result.released_codes.is_empty());
        assert_eq!(result.cluster_of[a as usize], result.cluster_of[b as usize]);
        let pair = result.pairs.iter().find(|p| (p.a, p.b) == (a, b));
        assert_eq!(
            pair.map(|p| p.evidence.national_code()),
            Some(CodeLevel::Equal)
        );
    }
}
