//! Property tests of the definition in the crate documentation.

use proptest::prelude::*;

use crate::{Policy, Quotas, Reason, Request, allocate};

fn instance() -> impl Strategy<Value = (Vec<Request>, u64, Quotas)> {
    let quotas = prop::collection::vec(prop::option::of(0u64..60), 0..4);
    quotas.prop_flat_map(|q| {
        let groups = q.len() as u32;
        let request = (0u64..40, 1u32..50, prop::option::of(0..groups.max(1))).prop_map(
            move |(need, w, g)| Request {
                need,
                weight: f64::from(w) / 8.0,
                group: if groups == 0 { None } else { g },
            },
        );
        (
            prop::collection::vec(request, 0..40),
            0u64..600,
            Just(Quotas { max_units: q }),
        )
    })
}

fn max_total(requests: &[Request], quotas: &Quotas) -> u64 {
    let mut per_group = vec![0u64; quotas.max_units.len()];
    let mut free = 0;
    for r in requests {
        match r.group {
            Some(g) => per_group[g as usize] += r.need,
            None => free += r.need,
        }
    }
    free + per_group
        .iter()
        .enumerate()
        .map(|(g, n)| quotas.max_units[g].map_or(*n, |q| q.min(*n)))
        .sum::<u64>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn water_fill_meets_its_definition((requests, pool, quotas) in instance()) {
        let a = allocate(&requests, pool, &quotas, Policy::WaterFill).unwrap();
        // Sums: the pool, or everything the needs and quotas allow.
        prop_assert_eq!(a.total, pool.min(max_total(&requests, &quotas)));
        prop_assert_eq!(a.units.iter().sum::<u64>(), a.total);
        for (i, r) in requests.iter().enumerate() {
            // Bounds, and floor or ceiling of the exact share.
            prop_assert!(a.units[i] <= r.need);
            let x = a.exact[i];
            prop_assert!(a.units[i] as f64 >= x.floor() - 1e-6 && a.units[i] as f64 <= x.ceil() + 1e-6,
                "request {} got {} for exact share {}", i, a.units[i], x);
        }
        // Quotas are never exceeded.
        for (g, q) in quotas.max_units.iter().enumerate() {
            if let Some(q) = q {
                let got: u64 = requests.iter().zip(&a.units).filter(|(r, _)| r.group == Some(g as u32)).map(|(_, u)| *u).sum();
                prop_assert!(got <= *q);
            }
        }
        // One level: every request not met in full and not held by its group is at λ·weight.
        for (i, r) in requests.iter().enumerate() {
            match a.reasons[i] {
                Reason::Level => {
                    let f = a.exact[i] / r.need as f64;
                    prop_assert!((f - a.level * r.weight).abs() <= 1e-9 * (1.0 + f), "fraction {} vs level {}", f, a.level * r.weight);
                }
                Reason::FullNeed => prop_assert!(a.level.min(r.group.map_or(f64::INFINITY, |g| a.group_levels[g as usize])) * r.weight >= 1.0 - 1e-9),
                Reason::GroupQuota => prop_assert!(a.group_levels[r.group.unwrap() as usize] < a.level),
                _ => {}
            }
        }
        // Same input, same output.
        prop_assert_eq!(&allocate(&requests, pool, &quotas, Policy::WaterFill).unwrap().units, &a.units);
    }

    #[test]
    fn priority_serves_heavier_requests_first((requests, pool, _q) in instance()) {
        let requests: Vec<Request> = requests.into_iter().map(|r| Request { group: None, ..r }).collect();
        let a = allocate(&requests, pool, &Quotas::default(), Policy::Priority).unwrap();
        let all: u64 = requests.iter().map(|r| r.need).sum();
        prop_assert_eq!(a.total, pool.min(all));
        for (i, ri) in requests.iter().enumerate() {
            for (j, rj) in requests.iter().enumerate() {
                let before = ri.weight > rj.weight || (ri.weight == rj.weight && i < j);
                if before && a.units[j] > 0 {
                    prop_assert_eq!(a.units[i], ri.need, "request {} came first but is not full", i);
                }
            }
        }
    }
}
