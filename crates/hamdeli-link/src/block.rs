//! Blocking: which pairs are compared at all.
//!
//! A pair is a candidate when the two records share the key of at least one rule. A block (the
//! records sharing one key) larger than [`LinkOptions::max_block_size`](crate::LinkOptions) is
//! not paired all-to-all: it is sorted by a second key and each record is paired with its next
//! [`LinkOptions::window`](crate::LinkOptions) neighbours only, so no block is ever quadratic.
//! A pair that an earlier rule already produced is skipped by the later rules, so the rules
//! overlap cheaply; what little overlap is left (through sorted oversized blocks) goes in the
//! final sort.

use rayon::prelude::*;

use crate::Prepared;
use crate::compare::{NONE, Rec};
use crate::record::mix64;

/// A blocking rule: a key per record (0 = the rule does not apply) and the order inside an
/// oversized block.
pub(crate) struct Rule {
    pub name: &'static str,
    key: fn(&Rec, &Prepared<'_>) -> u64,
    order: fn(&Rec, &Prepared<'_>) -> u64,
    /// Only pairs where at least one record is of this kind (e.g. its national code is present
    /// but invalid); `None`: every pair of the block.
    focus: Option<fn(&Rec) -> bool>,
}

fn mix(h: u64, v: u64) -> u64 {
    mix64(h ^ v.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17))
}

fn key_or_zero(k: u64) -> u64 {
    if k == 0 { 1 } else { k }
}

fn ph(p: &Prepared<'_>, id: u32) -> u64 {
    p.names.phonetic_hash(crate::record::PhoneticId(id))
}

fn year(r: &Rec) -> u64 {
    u64::from(r.birth >> 9)
}

/// The full date, if it is more than a year (or the 1/1 stand-in).
fn full_date(r: &Rec) -> Option<u64> {
    let (m, d) = ((r.birth >> 5) & 15, r.birth & 31);
    (r.birth != 0 && m != 0 && !(m == 1 && d == 1)).then_some(u64::from(r.birth))
}

pub(crate) const RULES: &[Rule] = &[
    Rule {
        name: "national_code",
        key: |r, _| {
            let c = if r.code != NONE { r.code } else { r.raw };
            if c == NONE { 0 } else { key_or_zero(mix(1, c)) }
        },
        order: |r, p| u64::from(r.birth) << 32 | (ph(p, r.first_ph) >> 32),
        focus: None,
    },
    Rule {
        name: "names_birth_year",
        key: |r, p| {
            if r.first_ph == 0 || r.last_ph == 0 || r.birth == 0 {
                return 0;
            }
            let (a, b) = (ph(p, r.first_ph), ph(p, r.last_ph));
            key_or_zero(mix(mix(mix(2, a.min(b)), a.max(b)), year(r)))
        },
        order: |r, p| u64::from(r.birth) << 32 | (ph(p, r.father_ph) >> 32),
        focus: None,
    },
    Rule {
        name: "last_name_birth_date",
        key: |r, p| match full_date(r) {
            Some(d) if r.last_ph != 0 => key_or_zero(mix(mix(3, ph(p, r.last_ph)), d)),
            _ => 0,
        },
        order: |r, p| ph(p, r.first_ph),
        focus: None,
    },
    Rule {
        name: "first_name_birth_date",
        key: |r, p| match full_date(r) {
            Some(d) if r.first_ph != 0 => key_or_zero(mix(mix(4, ph(p, r.first_ph)), d)),
            _ => 0,
        },
        order: |r, p| ph(p, r.last_ph),
        focus: None,
    },
    Rule {
        name: "phone",
        key: |r, _| {
            if r.phone == 0 {
                0
            } else {
                key_or_zero(mix(5, r.phone))
            }
        },
        order: |r, p| ph(p, r.first_ph) ^ u64::from(r.birth),
        focus: None,
    },
    Rule {
        name: "names_father",
        key: |r, p| {
            if r.first_ph == 0 || r.last_ph == 0 || r.father_ph == 0 {
                return 0;
            }
            let (a, b) = (ph(p, r.first_ph), ph(p, r.last_ph));
            key_or_zero(mix(mix(mix(6, a.min(b)), a.max(b)), ph(p, r.father_ph)))
        },
        order: |r, _| u64::from(r.birth),
        focus: None,
    },
    // The whole name as a set of letters (however it was split, ordered or spaced) with the
    // county (for the rows without a code or a birth date to block on otherwise), or with the
    // birth year: full-name columns of charity sheets.
    Rule {
        name: "whole_name_county",
        key: |r, _| {
            let place = if r.county != 0 {
                u64::from(r.county)
            } else {
                u64::from(r.province) << 32
            };
            if r.whole == 0 || place == 0 {
                0
            } else {
                key_or_zero(mix(mix(9, r.whole), place))
            }
        },
        order: |r, p| ph(p, r.father_ph) ^ u64::from(r.birth),
        focus: Some(|r| r.code == NONE && r.birth == 0),
    },
    Rule {
        name: "whole_name_year",
        key: |r, _| {
            if r.whole == 0 || r.birth == 0 {
                0
            } else {
                key_or_zero(mix(mix(10, r.whole), year(r)))
            }
        },
        order: |r, p| ph(p, r.father_ph),
        focus: None,
    },
    // A typo'd code keeps one half of its digits: pair on the first half with the surname, or on
    // the (random) second half alone, only where a code is invalid (two valid codes never match).
    Rule {
        name: "code_head_last_name",
        key: |r, p| code_half(r, p, true),
        order: |r, p| ph(p, r.first_ph),
        focus: Some(invalid_code),
    },
    Rule {
        name: "code_tail",
        key: |r, p| code_half(r, p, false),
        order: |r, p| ph(p, r.last_ph),
        focus: Some(invalid_code),
    },
];

const NRULES: usize = RULES.len();

fn invalid_code(r: &Rec) -> bool {
    r.raw != NONE
}

fn code_half(r: &Rec, p: &Prepared<'_>, head: bool) -> u64 {
    let c = if r.code != NONE { r.code } else { r.raw };
    if c == NONE || (head && r.last_ph == 0) {
        return 0;
    }
    if head {
        key_or_zero(mix(mix(7, c / 100_000), ph(p, r.last_ph)))
    } else {
        key_or_zero(mix(8, c % 100_000))
    }
}

/// Per-rule counts, for the benchmark and for tuning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    pub rule: &'static str,
    /// Records the rule applies to.
    pub records: u64,
    /// Blocks of two or more records.
    pub blocks: u64,
    /// Blocks that were larger than the limit and paired by window.
    pub oversized_blocks: u64,
    pub largest_block: u64,
    /// Pairs this rule produced that no earlier rule did.
    pub pairs: u64,
}

/// Candidate pairs `(a << 32) | b` with `a < b`, sorted and distinct.
pub(crate) fn candidates(
    p: &Prepared<'_>,
    max_block: usize,
    window: usize,
) -> (Vec<u64>, Vec<RuleStats>) {
    let n = p.recs.len();
    let window = window.max(1);
    let max_block = max_block.max(2);
    // Every rule's key of a record side by side: checking whether an earlier rule already paired
    // two records reads one cache line per record.
    let keys: Vec<[u64; NRULES]> = p
        .recs
        .par_iter()
        .map(|r| {
            let mut k = [0u64; NRULES];
            for (x, rule) in RULES.iter().enumerate() {
                k[x] = (rule.key)(r, p);
            }
            k
        })
        .collect();
    // Bit r: the record sits in an oversized block of rule r.
    const _: () = assert!(RULES.len() <= 16);
    let mut oversized = vec![0u16; n];
    let mut all: Vec<u64> = Vec::new();
    let mut stats = Vec::new();
    for (ri, rule) in RULES.iter().enumerate() {
        let mut entries: Vec<(u64, u32)> = keys
            .par_iter()
            .enumerate()
            .filter(|(_, k)| k[ri] != 0)
            .map(|(i, k)| (k[ri], i as u32))
            .collect();
        entries.par_sort_unstable_by_key(|e| e.0);
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        let mut s = 0;
        while s < entries.len() {
            let mut e = s + 1;
            while e < entries.len() && entries[e].0 == entries[s].0 {
                e += 1;
            }
            if e - s >= 2 {
                blocks.push((s, e));
            }
            s = e;
        }
        let mut st = RuleStats {
            rule: rule.name,
            records: entries.len() as u64,
            blocks: blocks.len() as u64,
            ..Default::default()
        };
        for &(s, e) in &blocks {
            st.largest_block = st.largest_block.max((e - s) as u64);
            if e - s > max_block {
                st.oversized_blocks += 1;
                for x in &entries[s..e] {
                    oversized[x.1 as usize] |= 1 << ri;
                }
                // Only an oversized block needs an order: by the rule's second key, then content.
                entries[s..e].sort_unstable_by_key(|x| {
                    let i = x.1 as usize;
                    ((rule.order)(&p.recs[i], p), p.hash[i], x.1)
                });
            }
        }
        let keys_ref = &keys;
        let oversized_ref = &oversized;
        let entries_ref = &entries;
        let focus = rule.focus;
        let invalid = |x: u32| focus.is_some_and(|f| f(&p.recs[x as usize]));
        let push = |a: u32, b: u32, out: &mut Vec<u64>| {
            let (i, j) = (a.min(b), a.max(b));
            // Skip what an earlier rule produced (unless that block was windowed).
            let (ki, kj) = (&keys_ref[i as usize], &keys_ref[j as usize]);
            let seen = (0..ri)
                .any(|r| ki[r] != 0 && ki[r] == kj[r] && oversized_ref[i as usize] & (1 << r) == 0);
            if !seen {
                out.push(u64::from(i) << 32 | u64::from(j));
            }
        };
        let emit = |&(s, e): &(usize, usize), out: &mut Vec<u64>| {
            let block = &entries_ref[s..e];
            let w = if block.len() > max_block {
                window
            } else {
                block.len()
            };
            if rule.focus.is_some() {
                // Each focus record against its neighbours (all of them in a normal block).
                for (x, a) in block.iter().enumerate() {
                    if !invalid(a.1) {
                        continue;
                    }
                    let lo = x.saturating_sub(w);
                    let hi = (x + 1 + w).min(block.len());
                    for (y, b) in block.iter().enumerate().take(hi).skip(lo) {
                        if y != x && !(invalid(b.1) && y < x) {
                            push(a.1, b.1, out);
                        }
                    }
                }
                return;
            }
            for (x, a) in block.iter().enumerate() {
                for b in &block[x + 1..(x + 1 + w).min(block.len())] {
                    push(a.1, b.1, out);
                }
            }
        };
        let pairs: Vec<Vec<u64>> = blocks
            .par_chunks(2048)
            .map(|chunk| {
                let mut out = Vec::new();
                for b in chunk {
                    emit(b, &mut out);
                }
                out
            })
            .collect();
        let count: usize = pairs.iter().map(Vec::len).sum();
        st.pairs = count as u64;
        all.reserve(count);
        for v in pairs {
            all.extend_from_slice(&v);
        }
        stats.push(st);
    }
    all.par_sort_unstable();
    all.dedup();
    (all, stats)
}
