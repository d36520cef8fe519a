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
/// each record or `NONE`; `years`: its birth year or 0, and whether its list states relations
/// to the head of household. Returns the root record of each record's cluster and a decision
/// per pair.
///
/// Besides two different valid codes, a join is refused when both clusters hold the same code,
/// one of them comes from a list of households (it states relations), and their birth years
/// would then span a generation: a household's members listed under the head's code, each
/// joined by code-less rows of their own, stay apart.
pub(crate) fn cluster(
    n: usize,
    codes: &[u64],
    years: &[(u16, bool)],
    pairs: &[(u32, u32)],
    order: &[usize],
) -> (Vec<u32>, Vec<Decision>) {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut code: Vec<u64> = codes.to_vec();
    // Lowest and highest birth year of each cluster (0 = none known).
    let mut span: Vec<(u16, u16)> = years.iter().map(|&(y, _)| (y, y)).collect();
    let mut households: Vec<bool> = years.iter().map(|&(_, h)| h).collect();
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
        let (sa, sb) = (span[ra as usize], span[rb as usize]);
        let joined = match (sa.0, sb.0) {
            (0, _) => sb,
            (_, 0) => sa,
            _ => (sa.0.min(sb.0), sa.1.max(sb.1)),
        };
        let household = households[ra as usize] || households[rb as usize];
        if ca != NONE
            && ca == cb
            && household
            && u32::from(joined.1 - joined.0) >= crate::compare::GENERATION_YEARS
        {
            decisions[k] = Decision::Refused;
            continue;
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[gone as usize] = keep;
        code[keep as usize] = if ca != NONE { ca } else { cb };
        span[keep as usize] = joined;
        households[keep as usize] = household;
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
        let (roots, d) = cluster(3, &codes, &[(0, false); 3], &pairs, &[1, 0]);
        assert_eq!(dense(roots.into_iter(), 3), vec![0, 1, 1]);
        assert_eq!(d, vec![Decision::Refused, Decision::Merged]);
    }

    #[test]
    fn one_code_a_generation_apart_stays_apart() {
        // 0 and 1 share the head's code (head born 1360, child 1390); 2 (no code, 1390) joins
        // the child; 3 (no code, 1361) joins the head; 2–3 would then bridge the generations.
        let codes = [7, 7, NONE, NONE];
        let years = [(1360, true), (1390, true), (1390, false), (1361, false)];
        let pairs = [(1, 2), (0, 3), (2, 3)];
        let (roots, d) = cluster(4, &codes, &years, &pairs, &[0, 1, 2]);
        assert_eq!(dense(roots.into_iter(), 4), vec![0, 1, 1, 0]);
        assert_eq!(
            d,
            vec![Decision::Merged, Decision::Merged, Decision::Refused]
        );
    }
}
