//! The public transparency log's chain: every entry carries the hash of the one before, so
//! changing or removing any stored entry breaks every hash after it. No personal data goes in.

use sha2::{Digest, Sha256};

/// The "previous hash" of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
}

impl Broken {
    pub fn seq(&self) -> i64 {
        match self {
            Broken::HashMismatch { seq } | Broken::LinkMismatch { seq } => *seq,
            Broken::Gap { found, .. } => *found,
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
        }
    }
}

/// Walks the chain from the first entry; the first broken entry is named. Returns the number of
/// entries and the head hash when all is well.
pub fn verify<I: IntoIterator<Item = Entry>>(entries: I) -> Result<(i64, String), Broken> {
    let mut prev = GENESIS_HASH.to_owned();
    let mut expected = 1;
    for e in entries {
        if e.seq != expected {
            return Err(Broken::Gap {
                expected,
                found: e.seq,
            });
        }
        if e.prev_hash != prev {
            return Err(Broken::LinkMismatch { seq: e.seq });
        }
        if entry_hash(&e.prev_hash, e.seq, e.at, &e.kind, &e.payload) != e.hash {
            return Err(Broken::HashMismatch { seq: e.seq });
        }
        prev = e.hash;
        expected += 1;
    }
    Ok((expected - 1, prev))
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

    #[test]
    fn field_boundaries_are_unambiguous() {
        assert_ne!(
            entry_hash("a", 1, 2, "ab", "c"),
            entry_hash("a", 1, 2, "a", "bc")
        );
    }
}
