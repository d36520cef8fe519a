//! Clustering: pairs at or above the threshold are joined, most probable first (union–find), but
//! a join that would put two different valid national codes in one person is refused.

use crate::compare::NONE;

/// What clustering did with a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Below the threshold: not used.
    Below,
    /// This pair joined two clusters.
    Merged,
    /// Already in one cluster through other pairs.
    Implied,
    /// Joining would have put two different valid national codes in one cluster.
    Refused,
    /// The two records have different valid national codes (probability 0).
    Vetoed,
}

impl Decision {
    /// Stable code, e.g. `"refused"`.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Below => "below",
            Decision::Merged => "merged",
            Decision::Implied => "implied",
            Decision::Refused => "refused",
            Decision::Vetoed => "vetoed",
        }
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let g = parent[parent[x as usize] as usize];
        parent[x as usize] = g;
        x = g;
    }
    x
}

/// `order`: indices into `pairs` of the pairs to join, best first. `codes`: the valid code of
/// each record or `NONE`. Returns the root record of each record's cluster and a decision per
/// pair.
pub(crate) fn cluster(
    n: usize,
    codes: &[u64],
    pairs: &[(u32, u32)],
    order: &[usize],
) -> (Vec<u32>, Vec<Decision>) {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut code: Vec<u64> = codes.to_vec();
    let mut decisions = vec![Decision::Below; pairs.len()];
    for &k in order {
        let (a, b) = pairs[k];
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra == rb {
            decisions[k] = Decision::Implied;
            continue;
        }
        let (ca, cb) = (code[ra as usize], code[rb as usize]);
        if ca != NONE && cb != NONE && ca != cb {
            decisions[k] = Decision::Refused;
            continue;
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[gone as usize] = keep;
        code[keep as usize] = if ca != NONE { ca } else { cb };
        decisions[k] = Decision::Merged;
    }
    let roots = (0..n as u32).map(|i| find(&mut parent, i)).collect();
    (roots, decisions)
}

/// Dense cluster ids numbered in order of each cluster's first record.
pub(crate) fn dense(roots: impl Iterator<Item = u32>, n: usize) -> Vec<u32> {
    let mut ids = vec![u32::MAX; n];
    let mut next = 0u32;
    roots
        .map(|r| {
            if ids[r as usize] == u32::MAX {
                ids[r as usize] = next;
                next += 1;
            }
            ids[r as usize]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_two_codes() {
        // 0 (code 1) – 2 (no code) – 1 (code 2): the better pair wins, the other is refused.
        let codes = [1, 2, NONE];
        let pairs = [(0, 2), (1, 2)];
        let (roots, d) = cluster(3, &codes, &pairs, &[1, 0]);
        assert_eq!(dense(roots.into_iter(), 3), vec![0, 1, 1]);
        assert_eq!(d, vec![Decision::Refused, Decision::Merged]);
    }
}
