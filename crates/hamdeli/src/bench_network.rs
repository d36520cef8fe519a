//! `hamdeli bench network`: matching over N synthetic volunteers and M open cases — the time
//! of one proposal (narrowing in SQL, scoring in Rust), p50/p99/max over every case.

use std::time::Instant;

use anyhow::Result;
use hamdeli_store::Store;

pub async fn run(store: &Store, volunteers: usize, cases: usize) -> Result<()> {
    let today = hamdeli_app::network::today();
    let started = Instant::now();
    let ids = hamdeli_store::network::bench::seed(store, volunteers, cases, &today).await?;
    eprintln!(
        "seeded {volunteers} volunteers and {} open cases in {:.1} s ({})",
        ids.len(),
        started.elapsed().as_secs_f64(),
        store.engine().name()
    );
    // One warm-up pass over a few cases.
    for id in ids.iter().take(20) {
        if let Some(case) = hamdeli_store::network::cases::case(store, *id).await? {
            hamdeli_app::network::cases::proposals_for(store, &case, 10).await?;
        }
    }
    let mut times = Vec::with_capacity(ids.len());
    let mut proposed = 0usize;
    for id in &ids {
        let Some(case) = hamdeli_store::network::cases::case(store, *id).await? else {
            continue;
        };
        let t = Instant::now();
        let list = hamdeli_app::network::cases::proposals_for(store, &case, 10).await?;
        times.push(t.elapsed());
        proposed += list.len();
    }
    // Exactness: the SQL-ranked remote arm gives the same top ten as scoring every candidate.
    let mut same = 0usize;
    let mut checked = 0usize;
    for id in ids.iter().take(100) {
        let Some(case) = hamdeli_store::network::cases::case(store, *id).await? else {
            continue;
        };
        let narrow = hamdeli_app::network::cases::ranked(store, &case, 10, true).await?;
        let full = hamdeli_app::network::cases::ranked(store, &case, 10, false).await?;
        checked += 1;
        if narrow == full {
            same += 1;
        }
    }
    eprintln!(
        "exactness: {same} of {checked} cases give the same ranked proposals as full scoring"
    );
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "matching ({}): {} proposals over {volunteers} volunteers — p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.1} volunteers proposed a case on average",
        store.engine().name(),
        times.len(),
        at(0.5),
        at(0.99),
        at(1.0),
        proposed as f64 / times.len().max(1) as f64
    );
    Ok(())
}
