//! The two policies. Water-fill finds the level with one sweep over the sorted breakpoints
//! (where a request's need is met, and where a group's quota is reached), O(n log n); exact
//! shares are then computed from the level itself, so they are consistent whatever rounding the
//! sweep's running sums carried, and the integer totals are reached exactly by the rounding step.

use crate::radix::{key_of, sort_pairs};
use crate::{Allocation, InputError, Policy, Quotas, Reason, Request, validate};

/// Distributes `pool` units over `requests` by `policy`.
pub fn allocate(
    requests: &[Request],
    pool: u64,
    quotas: &Quotas,
    policy: Policy,
) -> Result<Allocation, InputError> {
    validate(requests, quotas)?;
    Ok(match policy {
        Policy::WaterFill => water_fill(requests, pool, quotas),
        Policy::Priority => priority(requests, pool, quotas),
    })
}

/// Per group: its total need and the level at which its quota is reached (∞ if never).
fn group_caps(requests: &[Request], quotas: &Quotas) -> (Vec<u128>, Vec<f64>) {
    let groups = quotas.max_units.len();
    let mut need = vec![0u128; groups];
    let mut members: Vec<Vec<usize>> = vec![vec![]; groups];
    for (i, r) in requests.iter().enumerate() {
        if let Some(g) = r.group {
            need[g as usize] += u128::from(r.need);
            if r.need > 0 {
                members[g as usize].push(i);
            }
        }
    }
    let mut caps = vec![f64::INFINITY; groups];
    for g in 0..groups {
        let Some(q) = quotas.max_units[g] else {
            continue;
        };
        if u128::from(q) >= need[g] {
            continue;
        }
        let mut keyed: Vec<(u64, u32)> = members[g]
            .iter()
            .map(|&i| (key_of(breakpoint(&requests[i])), i as u32))
            .collect();
        sort_pairs(&mut keyed);
        let m: Vec<usize> = keyed.into_iter().map(|(_, i)| i as usize).collect();
        // Suffix slopes (no subtraction drift) and prefix saturated needs.
        let mut suffix = vec![0.0f64; m.len() + 1];
        for k in (0..m.len()).rev() {
            let r = &requests[m[k]];
            suffix[k] = suffix[k + 1] + r.need as f64 * r.weight;
        }
        let mut saturated = 0.0f64;
        let q = q as f64;
        for k in 0..m.len() {
            let b = breakpoint(&requests[m[k]]);
            if saturated + suffix[k] * b >= q {
                caps[g] = (q - saturated) / suffix[k];
                break;
            }
            saturated += requests[m[k]].need as f64;
        }
    }
    (need, caps)
}

/// The level at which a request's whole need is met.
fn breakpoint(r: &Request) -> f64 {
    1.0 / r.weight
}

/// Sweep events carry a request index, or a group index with this bit set (a quota reached).
const FREEZE: u32 = 1 << 31;

fn water_fill(requests: &[Request], pool: u64, quotas: &Quotas) -> Allocation {
    let n = requests.len();
    let groups = quotas.max_units.len();
    let (group_need, caps) = group_caps(requests, quotas);

    // Everything the needs and quotas allow, exactly.
    let free_need: u128 = requests
        .iter()
        .filter(|r| r.group.is_none())
        .map(|r| u128::from(r.need))
        .sum();
    let grouped: u128 = (0..groups)
        .map(|g| match quotas.max_units[g] {
            Some(q) => group_need[g].min(u128::from(q)),
            None => group_need[g],
        })
        .sum();
    let max_total = free_need + grouped;
    let target = max_total.min(u128::from(pool)) as u64;

    let level = if u128::from(pool) >= max_total {
        f64::INFINITY
    } else {
        sweep_level(requests, quotas, &caps, pool as f64)
    };
    let group_levels: Vec<f64> = caps.iter().map(|c| c.min(level)).collect();

    let mut exact = vec![0.0f64; n];
    let mut reasons = vec![Reason::ZeroNeed; n];
    for (i, r) in requests.iter().enumerate() {
        if r.need == 0 {
            continue;
        }
        let cap = r.group.map(|g| caps[g as usize]).unwrap_or(f64::INFINITY);
        let lambda = level.min(cap);
        let fraction = (lambda * r.weight).min(1.0);
        exact[i] = r.need as f64 * fraction;
        reasons[i] = if fraction >= 1.0 {
            Reason::FullNeed
        } else if cap < level {
            Reason::GroupQuota
        } else {
            Reason::Level
        };
    }

    // Round: each held group to exactly its quota, everyone else to what is left.
    let mut units = vec![0u64; n];
    let mut held: Vec<Vec<usize>> = vec![vec![]; groups];
    let mut free = Vec::with_capacity(n);
    // A group whose quota is reached at (or, by float noise, just above) the level is held:
    // its total at the level is its quota, so it is rounded to exactly that.
    let is_held = |g: usize| caps[g].is_finite() && caps[g] <= level * (1.0 + 1e-12);
    for (i, r) in requests.iter().enumerate() {
        match r.group {
            Some(g) if is_held(g as usize) => held[g as usize].push(i),
            _ => free.push(i),
        }
    }
    let mut held_total = 0u64;
    for (g, members) in held.iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let q = quotas.max_units[g].unwrap_or(0);
        held_total += q;
        round_to(requests, &exact, members, q, &mut units, None);
    }
    // Groups below their quota's level may still not round past the quota.
    let budgets: Vec<Option<u64>> = (0..groups)
        .map(|g| {
            if is_held(g) {
                None
            } else {
                quotas.max_units[g]
            }
        })
        .collect();
    round_to(
        requests,
        &exact,
        &free,
        target.saturating_sub(held_total),
        &mut units,
        Some(&budgets),
    );
    let total = units.iter().sum();
    Allocation {
        units,
        exact,
        reasons,
        level,
        group_levels,
        total,
    }
}

/// The level λ at which the total reaches `pool` (the caller knows it is reachable).
fn sweep_level(requests: &[Request], quotas: &Quotas, caps: &[f64], pool: f64) -> f64 {
    let groups = quotas.max_units.len();
    let mut events: Vec<(u64, u32)> = Vec::with_capacity(requests.len() + groups);
    let mut slope = 0.0f64;
    let mut group_slope = vec![0.0f64; groups];
    let mut group_saturated = vec![0.0f64; groups];
    for (i, r) in requests.iter().enumerate() {
        if r.need == 0 {
            continue;
        }
        let s = r.need as f64 * r.weight;
        slope += s;
        if let Some(g) = r.group {
            group_slope[g as usize] += s;
        }
        events.push((key_of(breakpoint(r)), i as u32));
    }
    // Quotas after requests: at an equal level the stable sort saturates requests first.
    for (g, c) in caps.iter().enumerate() {
        if c.is_finite() {
            events.push((key_of(*c), g as u32 | FREEZE));
        }
    }
    sort_pairs(&mut events);
    let mut constant = 0.0f64;
    let mut frozen = vec![false; groups];
    let mut last = 0.0f64;
    for (key, event) in events {
        let at = f64::from_bits(key);
        if slope > 0.0 && constant + slope * at >= pool {
            return ((pool - constant) / slope).max(last);
        }
        last = at;
        match event & FREEZE {
            0 => {
                let r = &requests[event as usize];
                let g = r.group.map(|g| g as usize);
                if g.is_some_and(|g| frozen[g]) {
                    continue;
                }
                let s = r.need as f64 * r.weight;
                constant += r.need as f64;
                slope = (slope - s).max(0.0);
                if let Some(g) = g {
                    group_slope[g] -= s;
                    group_saturated[g] += r.need as f64;
                }
            }
            _ => {
                let g = (event & !FREEZE) as usize;
                frozen[g] = true;
                let q = quotas.max_units[g].unwrap_or(0) as f64;
                constant += q - group_saturated[g];
                slope = (slope - group_slope[g]).max(0.0);
            }
        }
    }
    if slope > 0.0 {
        ((pool - constant) / slope).max(last)
    } else {
        last
    }
}

/// Floors the members' shares and hands the units left to reach `target` to the largest
/// remainders (ties: higher weight, then earlier row), never above a need nor past a group's
/// quota in `budgets`.
fn round_to(
    requests: &[Request],
    exact: &[f64],
    members: &[usize],
    target: u64,
    units: &mut [u64],
    budgets: Option<&[Option<u64>]>,
) {
    let mut floor_sum = 0u64;
    for &i in members {
        let f = (exact[i].floor() as u64).min(requests[i].need);
        units[i] = f;
        floor_sum += f;
    }
    // Candidates carry their own sort keys, contiguous: (remainder, weight, row).
    type Candidate = (f64, f64, u32);
    let order = |a: &Candidate, b: &Candidate| {
        b.0.total_cmp(&a.0)
            .then(b.1.total_cmp(&a.1))
            .then(a.2.cmp(&b.2))
    };
    if floor_sum < target {
        let mut room: Vec<Candidate> = members
            .iter()
            .filter(|&&i| units[i] < requests[i].need)
            .map(|&i| (exact[i] - units[i] as f64, requests[i].weight, i as u32))
            .collect();
        let k = ((target - floor_sum) as usize).min(room.len());
        // What each quota'd group may still take after flooring.
        let mut left: Vec<Option<u64>> = budgets.map(|b| b.to_vec()).unwrap_or_default();
        if left.iter().any(Option::is_some) {
            for &i in members {
                if let Some(g) = requests[i].group
                    && let Some(l) = left[g as usize].as_mut()
                {
                    *l = l.saturating_sub(units[i]);
                }
            }
        }
        let fits = |i: usize, left: &mut Vec<Option<u64>>| match requests[i].group {
            Some(g) if !left.is_empty() => match left[g as usize].as_mut() {
                Some(0) => false,
                Some(l) => {
                    *l -= 1;
                    true
                }
                None => true,
            },
            _ => true,
        };
        if k > 0 && k < room.len() {
            room.select_nth_unstable_by(k - 1, order);
        }
        let mut trial = left.clone();
        if room[..k].iter().all(|c| fits(c.2 as usize, &mut trial)) {
            for c in &room[..k] {
                units[c.2 as usize] += 1;
            }
        } else {
            // A quota binds among the top remainders: walk them in order, skipping full groups.
            room.sort_by(order);
            let mut given = 0;
            for c in &room {
                if given == k {
                    break;
                }
                if fits(c.2 as usize, &mut left) {
                    units[c.2 as usize] += 1;
                    given += 1;
                }
            }
        }
    } else if floor_sum > target {
        // Only float drift can bring this about; take back from the smallest remainders.
        let mut given: Vec<Candidate> = members
            .iter()
            .filter(|&&i| units[i] > 0)
            .map(|&i| (exact[i] - units[i] as f64, requests[i].weight, i as u32))
            .collect();
        given.sort_by(|a, b| order(b, a));
        for c in given.iter().take((floor_sum - target) as usize) {
            units[c.2 as usize] -= 1;
        }
    }
}

fn priority(requests: &[Request], pool: u64, quotas: &Quotas) -> Allocation {
    let n = requests.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        requests[b]
            .weight
            .total_cmp(&requests[a].weight)
            .then(a.cmp(&b))
    });
    let mut left = pool;
    let mut quota_left: Vec<Option<u64>> = quotas.max_units.clone();
    let mut units = vec![0u64; n];
    let mut reasons = vec![Reason::ZeroNeed; n];
    for i in order {
        let r = &requests[i];
        if r.need == 0 {
            continue;
        }
        let quota = r
            .group
            .and_then(|g| quota_left[g as usize])
            .unwrap_or(u64::MAX);
        let give = r.need.min(left).min(quota);
        units[i] = give;
        left -= give;
        if let Some(g) = r.group
            && let Some(q) = quota_left[g as usize].as_mut()
        {
            *q -= give;
        }
        reasons[i] = if give == r.need {
            Reason::FullNeed
        } else if quota <= left {
            Reason::GroupQuota
        } else {
            Reason::PoolExhausted
        };
    }
    let exact = units.iter().map(|&u| u as f64).collect();
    let total = units.iter().sum();
    Allocation {
        units,
        exact,
        reasons,
        level: f64::NAN,
        group_levels: vec![f64::NAN; quotas.max_units.len()],
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(need: u64, weight: f64) -> Request {
        Request {
            need,
            weight,
            group: None,
        }
    }

    fn wf(requests: &[Request], pool: u64) -> Allocation {
        allocate(requests, pool, &Quotas::default(), Policy::WaterFill).unwrap()
    }

    #[test]
    fn hand_computed_level() {
        // Fractions λ, λ, 2λ: 10λ + 10λ + 20λ = 12 → λ = 0.3 → 3, 3, 6.
        let a = wf(&[req(10, 1.0), req(10, 1.0), req(10, 2.0)], 12);
        assert_eq!(a.units, vec![3, 3, 6]);
        assert!((a.level - 0.3).abs() < 1e-12);
        assert_eq!(a.reasons, vec![Reason::Level; 3]);
    }

    #[test]
    fn saturated_requests_free_units_for_the_others() {
        // Weight 4 saturates at λ = 0.25: 2 + 10λ + 10λ = 10 → λ = 0.4 → 2, 4, 4.
        let a = wf(&[req(2, 4.0), req(10, 1.0), req(10, 1.0)], 10);
        assert_eq!(a.units, vec![2, 4, 4]);
        assert_eq!(a.reasons[0], Reason::FullNeed);
    }

    #[test]
    fn remainders_go_to_the_largest_then_heavier_then_earlier() {
        // λ = 10/3 / 10 per unit weight: shares 3.33.. each; one unit left → the earliest row.
        let a = wf(&[req(10, 1.0), req(10, 1.0), req(10, 1.0)], 10);
        assert_eq!(a.units, vec![4, 3, 3]);
        // Equal remainders and weights: the earlier row gets the unit.
        let a = wf(&[req(5, 1.0), req(5, 1.0)], 5);
        assert_eq!(a.units, vec![3, 2]);
    }

    #[test]
    fn a_pool_larger_than_all_needs_meets_them() {
        let a = wf(&[req(3, 1.0), req(0, 1.0), req(7, 0.5)], 100);
        assert_eq!(a.units, vec![3, 0, 7]);
        assert_eq!(a.total, 10);
        assert!(a.level.is_infinite());
        assert_eq!(a.reasons[1], Reason::ZeroNeed);
    }

    #[test]
    fn a_held_group_gets_its_quota_at_a_lower_level() {
        let quotas = Quotas {
            max_units: vec![Some(4), None],
        };
        let requests = vec![
            Request {
                need: 10,
                weight: 1.0,
                group: Some(0),
            },
            Request {
                need: 10,
                weight: 1.0,
                group: Some(0),
            },
            Request {
                need: 10,
                weight: 1.0,
                group: Some(1),
            },
            Request {
                need: 10,
                weight: 1.0,
                group: None,
            },
        ];
        let a = allocate(&requests, 20, &quotas, Policy::WaterFill).unwrap();
        assert_eq!(a.units[0] + a.units[1], 4);
        assert_eq!(a.units[2], 8);
        assert_eq!(a.units[3], 8);
        assert_eq!(a.reasons[0], Reason::GroupQuota);
        assert!(a.group_levels[0] < a.level);
        // With a big pool, quotas still bind and the total is what they allow.
        let a = allocate(&requests, 1000, &quotas, Policy::WaterFill).unwrap();
        assert_eq!(a.total, 24);
    }

    #[test]
    fn priority_serves_heaviest_first_within_quotas() {
        let quotas = Quotas {
            max_units: vec![Some(3)],
        };
        let requests = vec![
            Request {
                need: 5,
                weight: 1.0,
                group: None,
            },
            Request {
                need: 5,
                weight: 3.0,
                group: Some(0),
            },
            Request {
                need: 5,
                weight: 2.0,
                group: None,
            },
        ];
        let a = allocate(&requests, 9, &quotas, Policy::Priority).unwrap();
        assert_eq!(a.units, vec![1, 3, 5]);
        assert_eq!(
            a.reasons,
            vec![Reason::PoolExhausted, Reason::GroupQuota, Reason::FullNeed]
        );
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(allocate(&[req(1, 0.0)], 1, &Quotas::default(), Policy::WaterFill).is_err());
        assert!(
            allocate(
                &[req(1, f64::NAN)],
                1,
                &Quotas::default(),
                Policy::WaterFill
            )
            .is_err()
        );
        let r = Request {
            need: 1,
            weight: 1.0,
            group: Some(3),
        };
        assert!(allocate(&[r], 1, &Quotas::default(), Policy::WaterFill).is_err());
    }
}
