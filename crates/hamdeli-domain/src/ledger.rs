//! The public transparency log's chain: every entry carries the hash of the one before, so
//! changing or removing any stored entry breaks every hash after it. No personal data goes in.

use sha2::{Digest, Sha256};

/// The "previous hash" of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry as stored (and as the public feed serves it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    /// Canonical JSON (keys sorted), as hashed.
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over a versioned, unambiguous encoding of the entry's fields and its predecessor.
pub fn entry_hash(prev_hash: &str, seq: i64, at: i64, kind: &str, payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"hamdeli-ledger-v1\n");
    for part in [
        prev_hash.as_bytes(),
        seq.to_string().as_bytes(),
        at.to_string().as_bytes(),
        kind.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update((payload.len() as u64).to_be_bytes());
    h.update(payload.as_bytes());
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// The entry's own hash does not match its contents.
    HashMismatch { seq: i64 },
    /// The entry does not point at the hash of the entry before it.
    LinkMismatch { seq: i64 },
    /// A sequence number is missing or repeated.
    Gap { expected: i64, found: i64 },
    /// The entry the published head names does not have the published hash.
    HeadMismatch { seq: i64 },
}

impl Broken {
    pub fn seq(&self) -> i64 {
        match self {
            Broken::HashMismatch { seq }
            | Broken::LinkMismatch { seq }
            | Broken::HeadMismatch { seq } => *seq,
            Broken::Gap { expected, .. } => *expected,
        }
    }
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::HashMismatch { seq } => {
                write!(f, "entry {seq}: its hash does not match its contents")
            }
            Broken::LinkMismatch { seq } => write!(
                f,
                "entry {seq}: it does not point at the hash of entry {}",
                seq - 1
            ),
            Broken::Gap { expected, found } => {
                write!(f, "entry {expected} is missing (found {found})")
            }
            Broken::HeadMismatch { seq } => write!(
                f,
                "entry {seq}: its hash is not the head hash published with the log"
            ),
        }
    }
}

/// Walks the chain from the first entry; the first broken entry is named. Returns the number of
/// entries and the head hash when all is well.
pub fn verify<I: IntoIterator<Item = Entry>>(entries: I) -> Result<(i64, String), Broken> {
    let mut v = Verifier::default();
    for e in entries {
        v.push(&e)?;
    }
    Ok((v.count(), v.head().to_owned()))
}

/// The chain checked one entry at a time, in order (a feed read page by page).
#[derive(Debug, Clone)]
pub struct Verifier {
    prev: String,
    count: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            prev: GENESIS_HASH.to_owned(),
            count: 0,
        }
    }
}

impl Verifier {
    /// Checks the next entry: its sequence number, its link to the one before, its own hash.
    pub fn push(&mut self, e: &Entry) -> Result<(), Broken> {
        let expected = self.count + 1;
        if e.seq != expected {
            return Err(Broken::Gap {
                expected,
                found: e.seq,
            });
        }
        if e.prev_hash != self.prev {
            return Err(Broken::LinkMismatch { seq: e.seq });
        }
        if entry_hash(&e.prev_hash, e.seq, e.at, &e.kind, &e.payload) != e.hash {
            return Err(Broken::HashMismatch { seq: e.seq });
        }
        self.prev.clone_from(&e.hash);
        self.count = expected;
        Ok(())
    }
    /// Entries checked so far.
    pub fn count(&self) -> i64 {
        self.count
    }
    /// The hash of the last entry checked (the genesis value before the first).
    pub fn head(&self) -> &str {
        &self.prev
    }
}

// ---------------------------------------------------------------------------------------------
// Daily aggregates of allocations and deliveries
//
// Allocations and deliveries never enter the public log one by one: each is queued as an event
// (campaign, area, need type, status, units, day) and, once its day has closed, counted in a cell.
// A published cell always holds at least [`MIN_PUBLIC_COUNT`] events: counties below it roll up
// into their province, provinces below it into the campaign as a whole, and what is still below
// it is held and carried forward to the next closed day.

/// No published cell counts fewer events than this (the small-cell rule of public statistics).
pub const MIN_PUBLIC_COUNT: i64 = crate::needs::SMALL_CELL;

/// Iran Standard Time (UTC+03:30, no daylight saving time since 2022), in milliseconds.
pub const IRAN_OFFSET_MILLIS: i64 = (3 * 3600 + 30 * 60) * 1000;
const DAY_MILLIS: i64 = 86_400_000;

/// The civil day in Iran of an instant (Unix milliseconds), as days since 1970-01-01.
pub fn day_of(unix_millis: i64) -> i64 {
    (unix_millis + IRAN_OFFSET_MILLIS).div_euclid(DAY_MILLIS)
}

/// The instant (Unix milliseconds) a day closes: 00:00 Iran time of the next day. Aggregate
/// entries carry it as their `at`, whenever they are written.
pub fn day_close(day: i64) -> i64 {
    (day + 1) * DAY_MILLIS - IRAN_OFFSET_MILLIS
}

/// A day number as its Gregorian ISO date, `2025-03-21` (H. Hinnant's civil-from-days).
pub fn iso_day(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// One allocation or delivery waiting for its day's aggregate. No person, no exact time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    /// `allocation` or `delivery`: the kind of the entry it goes into.
    pub kind: String,
    /// `allocated`, `delivered` or `failed`.
    pub status: String,
    pub campaign: i64,
    pub province: Option<String>,
    pub county: Option<String>,
    pub need_type: String,
    pub units: i64,
}

/// The area a cell counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// One county.
    County,
    /// The events of one province not counted in a county cell.
    Province,
    /// The events of the campaign not counted in a county or province cell.
    Campaign,
}

/// One published count.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    pub area: Area,
    pub province: Option<String>,
    pub county: Option<String>,
    pub need_type: String,
    pub status: String,
    pub count: i64,
    pub units: i64,
}

/// One entry to append: a campaign's cells of one kind, and the events they count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub kind: String,
    pub campaign: i64,
    pub cells: Vec<Cell>,
    pub events: Vec<i64>,
}

/// Counts the events into cells of at least [`MIN_PUBLIC_COUNT`]: per (kind, campaign, need
/// type, status), first by county, then what is left by province, then what is left over the
/// whole campaign. Events in no cell are held (not in any aggregate's `events`). Deterministic:
/// aggregates by kind and campaign, cells by area, province, county, need type and status.
pub fn aggregate(events: &[Event]) -> Vec<Aggregate> {
    use std::collections::BTreeMap;
    type Group<'a> = Vec<&'a Event>;
    let mut groups: BTreeMap<(&str, i64, &str, &str), Group> = BTreeMap::new();
    for e in events {
        groups
            .entry((&e.kind, e.campaign, &e.need_type, &e.status))
            .or_default()
            .push(e);
    }
    let mut out: BTreeMap<(String, i64), Aggregate> = BTreeMap::new();
    for ((kind, campaign, need_type, status), group) in groups {
        let mut cells = Vec::new();
        let mut counted = Vec::new();
        let mut publish = |area: Area, p: Option<&str>, c: Option<&str>, evs: &[&Event]| {
            cells.push(Cell {
                area,
                province: p.map(str::to_owned),
                county: c.map(str::to_owned),
                need_type: need_type.to_owned(),
                status: status.to_owned(),
                count: evs.len() as i64,
                units: evs.iter().map(|e| e.units).sum(),
            });
            counted.extend(evs.iter().map(|e| e.id));
        };
        // Counties.
        let mut by_county: BTreeMap<(&str, &str), Group> = BTreeMap::new();
        let mut by_province: BTreeMap<&str, Group> = BTreeMap::new();
        let mut rest: Group = Vec::new();
        for e in &group {
            match (e.province.as_deref(), e.county.as_deref()) {
                (Some(p), Some(c)) => by_county.entry((p, c)).or_default().push(e),
                (Some(p), None) => by_province.entry(p).or_default().push(e),
                (None, _) => rest.push(e),
            }
        }
        for ((p, c), evs) in by_county {
            if evs.len() as i64 >= MIN_PUBLIC_COUNT {
                publish(Area::County, Some(p), Some(c), &evs);
            } else {
                by_province.entry(p).or_default().extend(evs);
            }
        }
        // What the counties left, by province.
        for (p, evs) in by_province {
            if evs.len() as i64 >= MIN_PUBLIC_COUNT {
                publish(Area::Province, Some(p), None, &evs);
            } else {
                rest.extend(evs);
            }
        }
        // What the provinces left, over the campaign; below the threshold it is held.
        if rest.len() as i64 >= MIN_PUBLIC_COUNT {
            publish(Area::Campaign, None, None, &rest);
        }
        if cells.is_empty() {
            continue;
        }
        let agg = out
            .entry((kind.to_owned(), campaign))
            .or_insert_with(|| Aggregate {
                kind: kind.to_owned(),
                campaign,
                cells: Vec::new(),
                events: Vec::new(),
            });
        agg.cells.extend(cells);
        agg.events.extend(counted);
    }
    out.into_values()
        .map(|mut a| {
            a.cells.sort_by(|x, y| {
                (x.area, &x.province, &x.county, &x.need_type, &x.status).cmp(&(
                    y.area,
                    &y.province,
                    &y.county,
                    &y.need_type,
                    &y.status,
                ))
            });
            a.events.sort_unstable();
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let payload = format!("{{\"n\":{seq}}}");
                let hash = entry_hash(&prev, seq, 1000 + seq, "donation", &payload);
                let e = Entry {
                    seq,
                    at: 1000 + seq,
                    kind: "donation".into(),
                    payload,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn ev(id: i64, province: Option<&str>, county: Option<&str>) -> Event {
        Event {
            id,
            kind: "delivery".into(),
            status: "delivered".into(),
            campaign: 1,
            province: province.map(Into::into),
            county: county.map(Into::into),
            need_type: "food".into(),
            units: 2,
        }
    }

    #[test]
    fn days_are_iran_civil_days() {
        // 2025-03-20 20:29:59.999 UTC is 23:59:59.999 in Tehran; a millisecond later is the 21st.
        let t = 1_742_502_599_999;
        assert_eq!(iso_day(day_of(t)), "2025-03-20");
        assert_eq!(iso_day(day_of(t + 1)), "2025-03-21");
        assert_eq!(day_close(day_of(t)), t + 1);
        assert_eq!(iso_day(0), "1970-01-01");
        assert_eq!(iso_day(day_of(951_782_400_000)), "2000-02-29");
    }

    #[test]
    fn small_counties_roll_up_to_the_province_or_are_held() {
        // Three in one county: held.
        let three: Vec<Event> = (1..=3).map(|i| ev(i, Some("23"), Some("2301"))).collect();
        assert!(aggregate(&three).is_empty());
        // Five in that county: a county cell.
        let five: Vec<Event> = (1..=5).map(|i| ev(i, Some("23"), Some("2301"))).collect();
        let a = aggregate(&five);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].events, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            a[0].cells,
            vec![Cell {
                area: Area::County,
                province: Some("23".into()),
                county: Some("2301".into()),
                need_type: "food".into(),
                status: "delivered".into(),
                count: 5,
                units: 10,
            }]
        );
        // 6 in one county, 3 + 2 in two others of the province: a county cell and the province
        // rest; 4 in another province and one without a place: held.
        let mut mixed: Vec<Event> = (1..=6).map(|i| ev(i, Some("23"), Some("2301"))).collect();
        mixed.extend((7..=9).map(|i| ev(i, Some("23"), Some("2302"))));
        mixed.extend((10..=11).map(|i| ev(i, Some("23"), Some("2303"))));
        mixed.extend((12..=15).map(|i| ev(i, Some("07"), Some("0701"))));
        mixed.push(ev(16, None, None));
        let a = aggregate(&mixed);
        assert_eq!(a.len(), 1);
        let cells: Vec<(Area, Option<&str>, i64)> = a[0]
            .cells
            .iter()
            .map(|c| {
                (
                    c.area,
                    c.county.as_deref().or(c.province.as_deref()),
                    c.count,
                )
            })
            .collect();
        assert_eq!(
            cells,
            vec![
                (Area::County, Some("2301"), 6),
                (Area::Province, Some("23"), 5),
                (Area::Campaign, None, 5),
            ]
        );
        assert_eq!(a[0].events, (1..=16).collect::<Vec<_>>());
        // Without the placeless one the campaign rest is 4: held.
        let a = aggregate(&mixed[..15]);
        assert_eq!(a[0].events, (1..=11).collect::<Vec<_>>());
    }

    #[test]
    fn no_cell_is_ever_small() {
        // Every split of up to 30 events over 3 counties of 2 provinces.
        let places = [
            (Some("23"), Some("2301")),
            (Some("23"), Some("2302")),
            (Some("07"), Some("0701")),
            (Some("07"), None),
        ];
        for n in 0..40u64 {
            let mut seed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let events: Vec<Event> = (0..(n as i64 % 30))
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let (p, c) = places[(seed % 4) as usize];
                    let mut e = ev(i, p, c);
                    if seed % 3 == 0 {
                        e.status = "failed".into();
                    }
                    e
                })
                .collect();
            let mut counted = 0;
            for a in aggregate(&events) {
                for c in &a.cells {
                    assert!(c.count >= MIN_PUBLIC_COUNT, "{c:?}");
                }
                assert_eq!(
                    a.cells.iter().map(|c| c.count).sum::<i64>(),
                    a.events.len() as i64
                );
                counted += a.events.len();
            }
            assert!(counted <= events.len());
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let head = c.last().unwrap().hash.clone();
        assert_eq!(verify(c), Ok((5, head)));
        assert_eq!(verify(vec![]), Ok((0, GENESIS_HASH.to_owned())));
    }

    #[test]
    fn any_change_names_the_entry() {
        let mut c = chain(5);
        c[2].payload = "{\"n\":999}".into();
        assert_eq!(verify(c.clone()), Err(Broken::HashMismatch { seq: 3 }));
        // Recomputing the changed entry's hash does not help: the next link breaks.
        c[2].hash = entry_hash(&c[2].prev_hash, 3, c[2].at, &c[2].kind, &c[2].payload);
        assert_eq!(verify(c), Err(Broken::LinkMismatch { seq: 4 }));
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(c),
            Err(Broken::Gap {
                expected: 2,
                found: 3
            })
        );
    }

    /// The examples of docs/transparency.md (computed there by docs/verify_ledger.py).
    #[test]
    fn the_documented_examples_hold() {
        assert_eq!(
            entry_hash(GENESIS_HASH, 1, 1000, "pledge", "{\"n\":\"همدلی\"}"),
            "15c6907a20de1d4955c2a05691b063b4001ccf3172919905c6478e0d8293d536"
        );
        assert_eq!(
            entry_hash(
                GENESIS_HASH,
                1,
                1_742_502_600_000,
                "delivery",
                "{\"campaign\":3,\"cells\":[{\"area\":\"county\",\"count\":5,\"county\":\"2301\",\
                 \"need_type\":\"food\",\"province\":\"23\",\"status\":\"delivered\",\"units\":10}],\
                 \"day\":\"2025-03-20\"}"
            ),
            "75c3cd07d42bf017ac93ac5f5477f473593e930d9dc070ba6b57f4aa63356705"
        );
        assert_eq!(day_close(day_of(1_742_502_599_999)), 1_742_502_600_000);
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        assert_ne!(
            entry_hash("a", 1, 2, "ab", "c"),
            entry_hash("a", 1, 2, "a", "bc")
        );
    }
}
