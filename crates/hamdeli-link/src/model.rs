//! Fellegi–Sunter weights estimated from the data, and the score of a pair.
//!
//! Two models are estimated:
//!
//! - **General** (two records versus two random records): `u` from random pairs; `m` from the
//!   candidate pairs that share a valid national code (free training pairs), and for the code
//!   itself from the pairs whose names and birth date agree. The prior is the share of matching
//!   pairs among all pairs, estimated from how many pairs share a valid code and how many
//!   records have one. Exact first, last and father's names are weighted by how common the name
//!   is (term frequency). With too few shared codes to learn from, `m` of each field is learned
//!   from pairs that agree on enough other fields to be almost surely one person, and the prior
//!   by EM.
//! - **Family** (two records versus two members of one family): relatives share surname,
//!   father's name, address and phone, so those say nothing about being one person. This model
//!   is learned from pairs inside small groups that share surname and father's name: `m` from
//!   pairs with one valid code, `u` from pairs with two different valid codes (siblings, twins),
//!   the prior from their ratio. It weighs only first name, birth date, gender, phone and place
//!   (and the national code as in the general model).
//!
//! A pair that agrees on the surname (exactly, phonetically, one edit apart or swapped with the
//! first name) and does not disagree on the father's name must beat both
//! alternatives — a random look-alike and a relative — so its odds are combined as
//! `1 / (1/odds_general + 1/odds_family)`. Other pairs use the general model alone.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::Prepared;
use crate::compare::{
    BIRTH_EXACT, CODE_EQUAL, CODE_ONE_DIGIT, CODE_TRANSPOSED, CODE_VETO, Evidence, FIELDS, Field,
    LEVELS, NAME_DIFFERENT, NAME_EDIT1, NAME_EXACT, NAME_PHONETIC, NONE, compare,
};
use crate::record::{NameId, NameRole};

/// m and u per field and level (index 0, "missing", is unused and weighs 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    pub m: [[f64; LEVELS]; FIELDS],
    pub u: [[f64; LEVELS]; FIELDS],
}

impl Weights {
    /// log2(m/u) in bits; 0 for "missing".
    pub fn weight(&self, field: Field, level: u8) -> f64 {
        let (f, l) = (field as usize, level as usize);
        if l == 0 || l >= field.levels() {
            return 0.0;
        }
        // A swap is one event, weighed under the first name; two different valid codes veto the
        // pair outright instead of weighing.
        if (field == Field::LastName && level == crate::compare::NAME_SWAPPED)
            || (field == Field::NationalCode
                && (level == CODE_VETO || level == crate::compare::CODE_HOUSEHOLD))
        {
            return 0.0;
        }
        (self.m[f][l] / self.u[f][l]).log2()
    }
}

/// How many training pairs the estimates rest on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Training {
    /// Candidate pairs sharing a valid national code (the `m` of the general model).
    pub code_pairs: u64,
    /// Candidate pairs agreeing on names and birth date (the `m` of the national code).
    pub code_check_pairs: u64,
    /// Random pairs (the `u` of the general model).
    pub random_pairs: u64,
    /// Family pairs with one valid code / two different valid codes.
    pub family_same: u64,
    pub family_different: u64,
    /// Too few records share a valid code: `m` came from pairs anchored by other fields
    /// (names, birth date, phone) and the prior from EM.
    pub em: bool,
}

/// The estimated model: what each level of each field says, for explaining a score.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub general: Weights,
    pub family: Weights,
    /// Probability that two random records are one person.
    pub prior: f64,
    /// Probability that two records of one family (same surname and father's name) are one person.
    pub family_prior: f64,
    pub training: Training,
    /// Term frequency floor: no name counts as rarer than this share of records.
    pub tf_floor: f64,
}

/// Fields the family model weighs (besides the national code, weighed as in the general model).
pub const FAMILY_FIELDS: [Field; 5] = [
    Field::FirstName,
    Field::BirthDate,
    Field::Gender,
    Field::Phone,
    Field::Place,
];

/// Strength of a weight, for plain-words explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    VeryStrongFor,
    StrongFor,
    ModerateFor,
    WeakFor,
    Neutral,
    WeakAgainst,
    ModerateAgainst,
    StrongAgainst,
    VeryStrongAgainst,
}

impl Strength {
    pub fn of(bits: f64) -> Strength {
        match bits {
            b if b >= 10.0 => Strength::VeryStrongFor,
            b if b >= 5.0 => Strength::StrongFor,
            b if b >= 2.0 => Strength::ModerateFor,
            b if b >= 0.5 => Strength::WeakFor,
            b if b > -0.5 => Strength::Neutral,
            b if b > -2.0 => Strength::WeakAgainst,
            b if b > -5.0 => Strength::ModerateAgainst,
            b if b > -10.0 => Strength::StrongAgainst,
            _ => Strength::VeryStrongAgainst,
        }
    }

    /// Stable code, e.g. `"strong_for"`.
    pub fn code(self) -> &'static str {
        match self {
            Strength::VeryStrongFor => "very_strong_for",
            Strength::StrongFor => "strong_for",
            Strength::ModerateFor => "moderate_for",
            Strength::WeakFor => "weak_for",
            Strength::Neutral => "neutral",
            Strength::WeakAgainst => "weak_against",
            Strength::ModerateAgainst => "moderate_against",
            Strength::StrongAgainst => "strong_against",
            Strength::VeryStrongAgainst => "very_strong_against",
        }
    }
}

/// One line of a model description or a pair explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelWeight {
    pub field: Field,
    pub level: u8,
    /// E.g. `"national_code.equal"`.
    pub code: &'static str,
    pub m: f64,
    pub u: f64,
    /// log2(m/u) in bits (term-frequency adjusted in a pair explanation).
    pub bits: f64,
    pub strength: Strength,
}

fn logit2(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

impl Model {
    /// The weight of a level in the general (`family = false`) or family model, in bits.
    pub fn weight(&self, family: bool, field: Field, level: u8) -> f64 {
        if family && FAMILY_FIELDS.contains(&field) {
            self.family.weight(field, level)
        } else if family && field != Field::NationalCode {
            0.0
        } else {
            self.general.weight(field, level)
        }
    }

    /// Every level of every field with its m, u and weight — "national code equal: very strong
    /// evidence for", and so on.
    pub fn describe(&self, family: bool) -> Vec<LevelWeight> {
        let mut out = Vec::new();
        for field in Field::ALL {
            if family && !FAMILY_FIELDS.contains(&field) && field != Field::NationalCode {
                continue;
            }
            let w = if family && field != Field::NationalCode {
                &self.family
            } else {
                &self.general
            };
            for level in 1..field.levels() as u8 {
                let bits = w.weight(field, level);
                out.push(LevelWeight {
                    field,
                    level,
                    code: field.level_code(level),
                    m: w.m[field as usize][level as usize],
                    u: w.u[field as usize][level as usize],
                    bits,
                    strength: Strength::of(bits),
                });
            }
        }
        out
    }
}

// ---------------------------------------------------------------- defaults

/// Typical m of list data with typos: the centre the estimates are smoothed towards, and the
/// start of EM.
fn default_m() -> [[f64; LEVELS]; FIELDS] {
    let mut m = [[0.0; LEVELS]; FIELDS];
    m[0][1..6].copy_from_slice(&[0.92, 0.03, 0.03, 0.015, 0.005]);
    m[1][1..7].copy_from_slice(&[0.85, 0.04, 0.05, 0.01, 0.03, 0.02]);
    m[2] = m[1];
    m[3][1..6].copy_from_slice(&[0.85, 0.04, 0.05, 0.01, 0.05]);
    m[4][1..6].copy_from_slice(&[0.85, 0.07, 0.02, 0.03, 0.03]);
    m[5][1..3].copy_from_slice(&[0.98, 0.02]);
    m[6][1..3].copy_from_slice(&[0.7, 0.3]);
    m[7][1..4].copy_from_slice(&[0.85, 0.07, 0.08]);
    m
}

/// Typical u between siblings: the centre the family estimates are smoothed towards.
fn default_family_u() -> [[f64; LEVELS]; FIELDS] {
    let mut u = [[0.0; LEVELS]; FIELDS];
    u[1][1..7].copy_from_slice(&[0.03, 0.01, 0.03, 0.02, 0.001, 0.909]);
    u[4][1..6].copy_from_slice(&[0.02, 0.05, 0.003, 0.04, 0.887]);
    u[5][1..3].copy_from_slice(&[0.5, 0.5]);
    u[6][1..3].copy_from_slice(&[0.4, 0.6]);
    u[7][1..4].copy_from_slice(&[0.9, 0.05, 0.05]);
    u
}

const DEFAULT_FAMILY_PRIOR: f64 = 0.2;
/// Fewer shared-code training pairs than this: estimate m by EM instead.
const MIN_CODE_PAIRS: u64 = 100;
/// Family groups (same surname and father's name) larger than this are name coincidences, not
/// families, and are not used for training.
const FAMILY_GROUP_MAX: usize = 24;
const FAMILY_TRAIN_CAP: usize = 3_000_000;

type Counts = [[f64; LEVELS]; FIELDS];

fn add(mut a: Counts, b: &Counts) -> Counts {
    for f in 0..FIELDS {
        for l in 0..LEVELS {
            a[f][l] += b[f][l];
        }
    }
    a
}

fn count(c: &mut Counts, e: &Evidence) {
    for (f, &l) in e.0.iter().enumerate() {
        c[f][l as usize] += 1.0;
    }
}

/// Smoothed distribution over the non-missing levels of each field.
fn smooth(c: &Counts, prior: &Counts, strength: f64, uniform: f64) -> Counts {
    let mut out = [[0.0; LEVELS]; FIELDS];
    for field in Field::ALL {
        let f = field as usize;
        let n = field.levels();
        let total: f64 = c[f][1..n].iter().sum();
        let prior_total: f64 = prior[f][1..n].iter().sum();
        for l in 1..n {
            let centre = if prior_total > 0.0 {
                prior[f][l] / prior_total
            } else {
                1.0 / (n - 1) as f64
            };
            out[f][l] = (c[f][l] + strength * centre + uniform)
                / (total + strength + uniform * (n - 1) as f64);
        }
    }
    out
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random pairs (of internal positions, which depend on the records' content only).
fn random_pairs(p: &Prepared<'_>, samples: usize) -> Vec<(u32, u32)> {
    let n = p.recs.len();
    if n < 2 {
        return Vec::new();
    }
    let total = n as u128 * (n as u128 - 1) / 2;
    if total <= samples as u128 {
        return (0..n as u32)
            .flat_map(|i| (i + 1..n as u32).map(move |j| (i, j)))
            .collect();
    }
    // The internal order is by content already, so positions are order-independent.
    let mut rng = Xorshift(0x2545_F491_4F6C_DD1D);
    let mut out = Vec::with_capacity(samples);
    while out.len() < samples {
        let i = (rng.next() % n as u64) as u32;
        let j = (rng.next() % n as u64) as u32;
        if i != j {
            out.push((i, j));
        }
    }
    out
}

/// Pairs inside small groups sharing surname and father's name (both present).
fn family_pairs(p: &Prepared<'_>) -> Vec<(u32, u32)> {
    let mut entries: Vec<(u64, u32)> = p
        .recs
        .par_iter()
        .enumerate()
        .filter(|(_, r)| r.last_ph != 0 && r.father_ph != 0)
        .map(|(i, r)| {
            let k = crate::record::mix64(
                p.names.phonetic_hash(crate::record::PhoneticId(r.last_ph))
                    ^ p.names
                        .phonetic_hash(crate::record::PhoneticId(r.father_ph))
                        .rotate_left(29),
            );
            (k, i as u32)
        })
        .collect();
    entries.par_sort_unstable();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut s = 0;
    while s < entries.len() {
        let mut e = s + 1;
        while e < entries.len() && entries[e].0 == entries[s].0 {
            e += 1;
        }
        if (2..=FAMILY_GROUP_MAX).contains(&(e - s)) {
            groups.push((s, e));
        }
        s = e;
    }
    let total: usize = groups.iter().map(|(s, e)| (e - s) * (e - s - 1) / 2).sum();
    let keep_one_in = total.div_ceil(FAMILY_TRAIN_CAP).max(1) as u64;
    let mut out = Vec::new();
    for &(s, e) in &groups {
        if !crate::record::mix64(entries[s].0).is_multiple_of(keep_one_in) {
            continue;
        }
        for x in s..e {
            for y in x + 1..e {
                out.push((entries[x].1, entries[y].1));
            }
        }
    }
    out
}

fn both_valid(p: &Prepared<'_>, a: u32, b: u32) -> bool {
    p.recs[a as usize].code != NONE && p.recs[b as usize].code != NONE
}

/// Whether a pair is a training pair for field `f` when no national codes are there to say
/// so: other fields agree so strongly that the pair is almost surely one person (twins share
/// birth, father and phone, so the first and last names are learned from those).
fn anchored(f: usize, l: &[u8; FIELDS]) -> bool {
    let agree = |x: u8| x == NAME_EXACT || x == NAME_PHONETIC;
    let phone = l[6] == 1;
    match f {
        1 | 2 => agree(l[3]) && l[4] == BIRTH_EXACT && phone,
        3 => agree(l[1]) && agree(l[2]) && l[4] == BIRTH_EXACT,
        4 => agree(l[1]) && agree(l[2]) && agree(l[3]) && phone,
        5..=7 => agree(l[1]) && agree(l[2]) && agree(l[3]) && l[4] == BIRTH_EXACT,
        _ => false,
    }
}

/// The share of matches among the candidates, by EM on the prior alone (m and u fixed), over
/// the distinct evidence patterns.
fn candidate_prior(ev: &[Evidence], m: &Counts, u: &Counts) -> f64 {
    let mut patterns: FxHashMap<Evidence, f64> = FxHashMap::default();
    for e in ev {
        *patterns.entry(*e).or_insert(0.0) += 1.0;
    }
    let mut patterns: Vec<(Evidence, f64)> = patterns.into_iter().collect();
    patterns.sort_unstable_by_key(|(e, _)| *e);
    let bits: Vec<(f64, f64)> = patterns
        .iter()
        .map(|(e, c)| {
            let w: f64 =
                e.0.iter()
                    .enumerate()
                    .filter(|(_, l)| **l != 0)
                    .map(|(f, &l)| (m[f][l as usize] / u[f][l as usize]).log2())
                    .sum();
            (
                if e.0[0] == CODE_VETO {
                    f64::NEG_INFINITY
                } else {
                    w
                },
                *c,
            )
        })
        .collect();
    let total: f64 = bits.iter().map(|b| b.1).sum();
    let mut lambda = 0.1;
    for _ in 0..50 {
        let sum: f64 = bits
            .iter()
            .map(|(w, c)| c / (1.0 + (-(w + logit2(lambda))).exp2()))
            .sum();
        lambda = (sum / total.max(1.0)).clamp(1e-9, 0.999);
    }
    lambda
}

/// Estimates the model from the records and their candidate pairs.
pub(crate) fn estimate(
    p: &Prepared<'_>,
    pairs: &[u64],
    ev: &[Evidence],
    u_samples: usize,
) -> Model {
    let n = p.recs.len();
    let zero: Counts = [[0.0; LEVELS]; FIELDS];
    let mut training = Training::default();

    // u: random pairs.
    let random = random_pairs(p, u_samples);
    training.random_pairs = random.len() as u64;
    let u_counts = random
        .par_chunks(1 << 14)
        .map(|chunk| {
            let mut c = zero;
            for &(a, b) in chunk {
                count(
                    &mut c,
                    &compare(&p.recs[a as usize], &p.recs[b as usize], p.names),
                );
            }
            c
        })
        .reduce(|| zero, |a, b| add(a, &b));
    let uniform_u = [[1.0; LEVELS]; FIELDS];
    let u_observed = smooth(&u_counts, &uniform_u, 0.0, 0.5);

    // m: candidates sharing a valid code (other fields) or agreeing on names and birth (code).
    let names_agree = |x: u8| x == NAME_EXACT || x == NAME_PHONETIC;
    let (m_counts, code_counts, code_pairs, check_pairs, anchor_counts) = pairs
        .par_chunks(1 << 14)
        .zip(ev.par_chunks(1 << 14))
        .map(|(pc, ec)| {
            let (mut mc, mut cc, mut np, mut nc, mut ac) = (zero, zero, 0u64, 0u64, zero);
            for (&pair, e) in pc.iter().zip(ec) {
                let (a, b) = ((pair >> 32) as u32, pair as u32);
                let l = e.0;
                if l[0] == CODE_EQUAL && both_valid(p, a, b) {
                    count(&mut mc, e);
                    np += 1;
                }
                for f in 1..FIELDS {
                    if anchored(f, &l) {
                        ac[f][l[f] as usize] += 1.0;
                    }
                }
                if l[0] != 0
                    && names_agree(l[1])
                    && names_agree(l[2])
                    && l[4] == BIRTH_EXACT
                    && (l[3] == 0 || names_agree(l[3]))
                {
                    cc[0][l[0] as usize] += 1.0;
                    nc += 1;
                }
            }
            (mc, cc, np, nc, ac)
        })
        .reduce(
            || (zero, zero, 0, 0, zero),
            |a, b| {
                (
                    add(a.0, &b.0),
                    add(a.1, &b.1),
                    a.2 + b.2,
                    a.3 + b.3,
                    add(a.4, &b.4),
                )
            },
        );
    training.code_pairs = code_pairs;
    training.code_check_pairs = check_pairs;
    let total_pairs = (n as f64) * (n as f64 - 1.0) / 2.0;
    let (mut m, prior) = if code_pairs >= MIN_CODE_PAIRS {
        let mut m = smooth(&m_counts, &default_m(), 5.0, 0.0);
        let code_m = smooth(&code_counts, &default_m(), 5.0, 0.0);
        m[0] = code_m[0];
        let valid = p.recs.iter().filter(|r| r.code != NONE).count() as f64;
        let f_valid = (valid / n as f64).max(1e-9);
        let matches = code_pairs as f64 / (f_valid * f_valid);
        (m, (matches / total_pairs.max(1.0)).clamp(1e-15, 0.5))
    } else {
        // Too few shared codes: m from pairs anchored by other fields, the prior by EM.
        training.em = true;
        let mut m = smooth(&anchor_counts, &default_m(), 5.0, 0.0);
        m[0] = smooth(&code_counts, &default_m(), 5.0, 0.0)[0];
        let lambda = candidate_prior(ev, &m, &u_observed);
        (
            m,
            (lambda * pairs.len() as f64 / total_pairs.max(1.0)).clamp(1e-15, 0.5),
        )
    };
    // Two different valid codes are a veto whatever m says; keep the weight finite.
    m[0][CODE_VETO as usize] = m[0][CODE_VETO as usize].max(1e-9);
    // Random pairs include a few matches (share `prior`): u is what is left of them.
    let mut u = u_observed;
    for field in Field::ALL {
        let f = field as usize;
        let floor = 0.5 / (training.random_pairs as f64 + 1.0);
        for l in 1..field.levels() {
            u[f][l] = ((u_observed[f][l] - prior * m[f][l]) / (1.0 - prior)).max(floor);
        }
    }

    // Family model.
    let fam = family_pairs(p);
    let (same, diff, n_same, n_diff) = fam
        .par_chunks(1 << 14)
        .map(|chunk| {
            let (mut s, mut d, mut ns, mut nd) = (zero, zero, 0u64, 0u64);
            for &(a, b) in chunk {
                if !both_valid(p, a, b) {
                    continue;
                }
                let e = compare(&p.recs[a as usize], &p.recs[b as usize], p.names);
                if e.0[0] == CODE_EQUAL {
                    count(&mut s, &e);
                    ns += 1;
                } else {
                    count(&mut d, &e);
                    nd += 1;
                }
            }
            (s, d, ns, nd)
        })
        .reduce(
            || (zero, zero, 0, 0),
            |a, b| (add(a.0, &b.0), add(a.1, &b.1), a.2 + b.2, a.3 + b.3),
        );
    training.family_same = n_same;
    training.family_different = n_diff;
    let family_m = smooth(&same, &m, 20.0, 0.0);
    let family_u = smooth(&diff, &default_family_u(), 20.0, 0.0);
    let family_prior = ((n_same as f64 + 20.0 * DEFAULT_FAMILY_PRIOR)
        / ((n_same + n_diff) as f64 + 20.0))
        .clamp(1e-6, 0.999);
    Model {
        general: Weights { m, u },
        family: Weights {
            m: family_m,
            u: family_u,
        },
        prior,
        family_prior,
        training,
        tf_floor: 1e-4,
    }
}

/// Weights ready for scoring: tables in bits, term-frequency weights per name.
pub(crate) struct Scorer {
    general: [[f64; LEVELS]; FIELDS],
    family: [[f64; LEVELS]; FIELDS],
    prior: f64,
    family_prior: f64,
    /// Exact-agreement weight per name id and role.
    tf: Vec<[f32; 3]>,
}

impl Scorer {
    pub fn new(model: &Model, p: &Prepared<'_>) -> Scorer {
        let mut general = [[0.0; LEVELS]; FIELDS];
        let mut family = [[0.0; LEVELS]; FIELDS];
        for field in Field::ALL {
            for l in 1..field.levels() as u8 {
                general[field as usize][l as usize] = model.general.weight(field, l);
                family[field as usize][l as usize] = model.weight(true, field, l);
            }
        }
        let names = p.names;
        let roles = [NameRole::First, NameRole::Last, NameRole::Father];
        let totals = roles.map(|role| names.total(role) as f64);
        let fields = [Field::FirstName, Field::LastName, Field::FatherName];
        let tf = (0..names.len() as u32)
            .map(|id| {
                let mut w = [0f32; 3];
                for k in 0..3 {
                    let share = f64::from(names.count(NameId(id), roles[k])) / totals[k].max(1.0);
                    let m_exact = model.general.m[fields[k] as usize][NAME_EXACT as usize];
                    w[k] = (m_exact / share.max(model.tf_floor)).log2() as f32;
                }
                w
            })
            .collect();
        Scorer {
            general,
            family,
            prior: logit2(model.prior),
            family_prior: logit2(model.family_prior),
            tf,
        }
    }

    /// Log2 odds of a match, and whether the family model (rather than the general one) bound it.
    pub fn score(&self, a: &crate::compare::Rec, e: &Evidence) -> (f64, bool) {
        let l = e.0;
        let mut w = self.prior;
        for (table, &level) in self.general.iter().zip(&l) {
            w += table[level as usize];
        }
        // Term frequency for exact names (the records agree, so a's name is the name).
        for (k, (f, id)) in [(1usize, a.first), (2, a.last), (3, a.father)]
            .into_iter()
            .enumerate()
        {
            if l[f] == NAME_EXACT {
                w += f64::from(self.tf[id as usize][k]) - self.general[f][NAME_EXACT as usize];
            }
        }
        let (w, family) = if e.family_context() {
            let mut wf = self.family_prior + self.general[0][l[0] as usize];
            for f in FAMILY_FIELDS {
                wf += self.family[f as usize][l[f as usize] as usize];
            }
            let lo = w.min(wf);
            let combined = lo - (1.0 + (-(w - wf).abs()).exp2()).log2();
            (combined, wf < w)
        } else {
            (w, false)
        };
        (cap(&l, w), family)
    }
}

/// Weight caps that no estimated weight overrides:
///
/// - **twins**: the same full birth date and parents (father's name or surname agree) but
///   clearly different first names, without one national code to say otherwise, are two
///   people (below the review floor);
/// - **uncorroborated names**: a pair without the same national code (or one typo apart), any
///   agreement of birth date, father's name or mobile — names and place alone — is at most a
///   review item, never merged automatically.
fn cap(l: &[u8; FIELDS], w: f64) -> f64 {
    let code_agrees = matches!(l[0], CODE_EQUAL | CODE_ONE_DIGIT | CODE_TRANSPOSED);
    let kin = |x: u8| matches!(x, NAME_EXACT | NAME_PHONETIC | NAME_EDIT1);
    if !code_agrees && l[1] == NAME_DIFFERENT && l[4] == BIRTH_EXACT && (kin(l[3]) || kin(l[2])) {
        return w.min(TWINS_CAP);
    }
    let birth_agrees = matches!(l[4], 1..=4);
    if !code_agrees && !birth_agrees && !kin(l[3]) && l[6] != 1 {
        return w.min(UNCORROBORATED_CAP);
    }
    w
}

/// Log2 odds that twins are not pushed above (probability 1/3).
const TWINS_CAP: f64 = -1.0;
/// Log2 odds that names and place alone are not pushed above (probability 0.8: a review item).
const UNCORROBORATED_CAP: f64 = 2.0;

impl Scorer {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strengths() {
        assert_eq!(Strength::of(20.0), Strength::VeryStrongFor);
        assert_eq!(Strength::of(-6.0), Strength::StrongAgainst);
        assert_eq!(Strength::of(0.1).code(), "neutral");
    }

    #[test]
    fn smoothing_is_a_distribution() {
        let mut c = [[0.0; LEVELS]; FIELDS];
        c[1][1] = 90.0;
        c[1][6] = 10.0;
        let s = smooth(&c, &default_m(), 5.0, 0.0);
        let total: f64 = s[1][1..7].iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(s[1][1] > 0.8 && s[1][2] > 0.0);
    }
}
