//! `hamdeli bench …`: figures the issues ask for, measured on the real storage path.

use std::time::Instant;

use anyhow::{Context, Result};

use hamdeli_alloc::Policy;
use hamdeli_store::Store;
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::distribution::{self, Window};

/// Adds `requests` verified food needs in one county and a campaign holding half of what they
/// need, then times the dry run and the commit (one transaction, guarded updates).
pub async fn allocation_commit(store: &Store, requests: usize) -> Result<String> {
    crate::demo::seed(store).await?;
    let started = Instant::now();
    let needed =
        hamdeli_store::bench::verified_needs(store, "23", "2301", "food", requests).await?;
    let setup = started.elapsed();
    let pool = needed / 2;
    let mut tx = store.begin().await?;
    let campaign = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: format!("بنچمارک تخصیص {requests}"),
            description: String::new(),
            organisation_id: None,
            province_code: Some("23".into()),
            county_code: Some("2301".into()),
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("food".into(), pool)],
        },
        None,
    )
    .await?;
    let user = hamdeli_store::users::id_by_username(store, "donor")
        .await?
        .context("the demo donor")?;
    let donor = match campaigns::donor_of_user(store, user).await? {
        Some(d) => d.id,
        None => campaigns::register_donor(&mut tx, user, "09120000000").await?,
    };
    let pledge = campaigns::pledge(&mut tx, campaign, donor, "food", pool).await?;
    campaigns::receive(&mut tx, pledge, pool, "BENCH", None).await?;
    tx.commit().await?;
    let c = campaigns::get(store, campaign)
        .await?
        .context("the campaign")?;
    let window = Window {
        from: 0,
        to: i64::MAX,
    };
    let t = Instant::now();
    let plan = distribution::dry_run(store, &c, "food", Policy::WaterFill, window).await?;
    let dry = t.elapsed();
    let t = Instant::now();
    let done = distribution::commit(
        store,
        &c,
        "food",
        Policy::WaterFill,
        window,
        distribution::CommittedBy::unaudited(None),
    )
    .await?;
    let commit = t.elapsed();
    Ok(format!(
        "allocation commit on {engine}: {requests} verified needs ({needed} units), pool {pool}\n  \
         setup (synthetic rows) {setup:.2} s\n  dry run {dry:.2} s ({eligible} eligible, {planned} units planned)\n  \
         commit {commit:.2} s ({allocs} allocations, {total} units, one transaction)",
        engine = store.engine().name(),
        setup = setup.as_secs_f64(),
        dry = dry.as_secs_f64(),
        eligible = plan.eligible,
        planned = plan.total,
        commit = commit.as_secs_f64(),
        allocs = done.allocations,
        total = done.total,
    ))
}
