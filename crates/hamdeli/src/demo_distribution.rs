//! The demo's needs and distribution, over the demo registry: needs of households (most of them
//! verified), donors, two campaigns (national and Tehran), pledges and received donations,
//! committed allocations, deliveries (some failed), and the other organisations' support lists
//! in the support ledger — so a new user sees every page of capabilities B and C with data.

use anyhow::Result;
use serde::Serialize;

use hamdeli_alloc::Policy;
use hamdeli_domain::needs::Urgency;
use hamdeli_domain::{Role, Scope};
use hamdeli_store::campaigns::{self, MONEY, NewCampaign};
use hamdeli_store::distribution::{self, Outcome, Window};
use hamdeli_store::needs::{self, NewNeed};
use hamdeli_store::{Store, users};

use crate::demo::DEMO_PASSWORD;

/// The first this many households (female-headed first) all get demo needs, so a small demo
/// shows every page full; beyond them about one household in five does (see [`has_needs`]).
const EVERY_HOUSEHOLD_UP_TO: usize = 3000;

/// Households whose needs are written in one transaction, a few statements for all of them
/// ([`needs::create_needs`]). PostgreSQL folds each statement's rows into one change per summary
/// row (0037), so a transaction leaves a few row versions per summary row, not one per need (one
/// need a statement ran at about 300 needs a second on the 1M demo).
const NEEDS_BATCH: usize = 1_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct DistributionReport {
    pub needs: i64,
    pub verified: i64,
    pub campaigns: i64,
    pub donations: i64,
    pub allocations: i64,
    pub delivered: i64,
    pub failed: i64,
    pub imported_support: i64,
    /// Wall-clock seconds of the needs step and of the whole distribution (the bench reads them).
    pub needs_seconds: f64,
    pub seconds: f64,
}

/// A small deterministic mix of an id, for choosing demo values without a random generator.
fn mix(id: i64, salt: i64) -> i64 {
    let mut x = (id as u64) ^ (salt as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x % 1_000_000) as i64
}

fn demo_need(household: i64, k: i64) -> (&'static str, i64, Urgency) {
    let r = mix(household, k);
    let urgency = match r % 10 {
        0 => Urgency::Critical,
        1 | 2 => Urgency::High,
        3 => Urgency::Low,
        _ => Urgency::Normal,
    };
    match (r / 10) % 7 {
        0..=2 => ("food", 1 + r % 4, urgency),
        3 => ("hygiene", 1 + r % 3, urgency),
        4 => ("rent_housing", (5 + r % 26) * 1_000_000, urgency),
        5 => ("medical", (2 + r % 19) * 1_000_000, urgency),
        _ => ("debt_relief", (3 + r % 28) * 1_000_000, urgency),
    }
}

/// Whether the household at `rank` (female-headed first, then by id) gets demo needs: every one
/// of the first [`EVERY_HOUSEHOLD_UP_TO`], then one female-headed household in two and one
/// other in ten — about one in five of a national population (22 % female-headed), so the
/// needs grow with the population (~80,000 at 1M people) while small demos stay as they were.
fn has_needs(rank: usize, household: i64, female_head: bool) -> bool {
    rank < EVERY_HOUSEHOLD_UP_TO || mix(household, 5) % 100 < if female_head { 50 } else { 10 }
}

async fn user_id(store: &Store, username: &str) -> Result<Option<i64>> {
    Ok(users::id_by_username(store, username).await?)
}

/// The demo campaigns' titles: a demo stopped half-way finds its campaigns by them and goes on.
const NATIONAL_TITLE: &str = "پویش ملی همدلی با زنان سرپرست خانوار (نمایشی)";
const TEHRAN_TITLE: &str = "پویش همدلی تهران — سبد غذایی (نمایشی)";

/// Seeds the demo distribution once: needs, donors, the two campaigns and their pledges, then
/// each pool's allocation and the deliveries. A run stopped after the campaigns were made (a
/// national build is long) goes on from the first pool that has allocated nothing; a finished
/// one adds nothing. Nothing happens when campaigns other than the demo's exist.
pub async fn seed(store: &Store) -> Result<DistributionReport> {
    let mut report = DistributionReport::default();
    let started = std::time::Instant::now();
    let admin = user_id(store, "admin").await?;
    // Two campaigns running from a month ago to two months ahead.
    let today = hamdeli_locale::clock::iran_today(hamdeli_store::now_millis());
    let days = hamdeli_locale::clock::days_from_civil(today);
    let starts = hamdeli_locale::clock::civil_from_days(days - 30);
    let ends = hamdeli_locale::clock::civil_from_days(days + 60);
    let window = Window {
        from: hamdeli_locale::clock::iran_midnight_millis(starts),
        to: hamdeli_locale::clock::iran_midnight_millis(ends) + 86_400_000 - 1,
    };
    let existing = campaigns::list(store).await?;
    let titled = |title: &str| existing.iter().find(|c| c.title == title).map(|c| c.id);
    let (national, tehran) = match (titled(NATIONAL_TITLE), titled(TEHRAN_TITLE)) {
        (Some(national), Some(tehran)) => (national, tehran),
        _ if !existing.is_empty() => return Ok(report),
        _ => {
            let made = seed_needs_and_campaigns(store, &mut report, admin, starts, ends).await?;
            report.needs_seconds = started.elapsed().as_secs_f64();
            made
        }
    };
    // Allocations: the national money and goods, and Tehran's food; each pool once.
    for (campaign, resource) in [
        (tehran, "food"),
        (national, "food"),
        (national, "hygiene"),
        (national, MONEY),
    ] {
        let pools = campaigns::pools(store, campaign).await?;
        if pools
            .iter()
            .any(|p| p.resource == resource && p.allocated > 0)
        {
            continue;
        }
        let c = campaigns::get(store, campaign)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo campaign {campaign} vanished"))?;
        match distribution::commit(
            store,
            &c,
            resource,
            Policy::WaterFill,
            window,
            distribution::CommittedBy::unaudited(admin),
        )
        .await
        {
            Ok(done) => report.allocations += done.allocations,
            Err(hamdeli_store::StoreError::Invalid(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }

    // Deliveries: most of the Tehran batch delivered with the recipient's code, a few failed.
    let period = hamdeli_locale::jalali_year_month(hamdeli_store::now_millis());
    let all = hamdeli_domain::PlaceFilter::All;
    let recorded = !distribution::allocations(store, &all, "delivered", 1)
        .await?
        .is_empty()
        || !distribution::allocations(store, &all, "failed", 1)
            .await?
            .is_empty();
    let pending = if recorded {
        vec![]
    } else {
        distribution::allocations(store, &all, "pending", 600).await?
    };
    for a in pending {
        let r = mix(a.id, 11) % 100;
        let outcome = if r < 60 {
            let code = distribution::delivery_code(store, a.id).await?;
            Outcome::Delivered { code, note: None }
        } else if r < 64 {
            Outcome::Failed {
                note: "نشانی پیدا نشد (نمایشی)".into(),
            }
        } else {
            continue;
        };
        let mut tx = store.begin().await?;
        distribution::record_delivery(&mut tx, a.id, &outcome, &period, admin).await?;
        tx.commit().await?;
        match outcome {
            Outcome::Delivered { .. } => report.delivered += 1,
            Outcome::Failed { .. } => report.failed += 1,
        }
    }
    report.imported_support =
        distribution::sync_imported_support(store, hamdeli_locale::jalali_year_month).await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The first part of [`seed`]: the needs of the demo households, the donors, the two campaigns
/// and their pledges, in the order an office would make them. Returns the national and the
/// Tehran campaign. Public so that a test can stop the demo where a long build may stop.
pub async fn seed_needs_and_campaigns(
    store: &Store,
    report: &mut DistributionReport,
    admin: Option<i64>,
    starts: hamdeli_locale::clock::CivilDate,
    ends: hamdeli_locale::clock::CivilDate,
) -> Result<(i64, i64)> {
    let officer = user_id(store, "tehran.officer").await?;
    // Needs of households, female-headed first, in transactions of NEEDS_BATCH households.
    let households = needs::household_heads(store, i64::MAX).await?;
    let chosen: Vec<(i64, i64)> = households
        .iter()
        .enumerate()
        .filter(|(rank, h)| has_needs(*rank, h.0, h.2))
        .map(|(_, h)| (h.0, h.1))
        .collect();
    for batch in chosen.chunks(NEEDS_BATCH) {
        let list: Vec<NewNeed> = batch
            .iter()
            .flat_map(|&(household, head)| {
                (0..1 + mix(household, 7) % 2).map(move |k| {
                    let (need_type, amount, urgency) = demo_need(household, k);
                    NewNeed {
                        person_id: head,
                        need_type: need_type.into(),
                        amount,
                        urgency,
                        note: None,
                    }
                })
            })
            .collect();
        let mut tx = store.begin().await?;
        let made = needs::create_needs(&mut tx, &list, admin).await?;
        let verified: Vec<i64> = made
            .iter()
            .copied()
            .filter(|&id| mix(id, 3) % 100 < 85)
            .collect();
        report.verified += needs::verify_needs(&mut tx, &verified, admin).await? as i64;
        report.needs += made.len() as i64;
        tx.commit().await?;
    }

    // Donors: the demo donor and two more who sign in with their mobile numbers.
    let mut donors = vec![];
    let mut tx = store.begin().await?;
    if let Some(uid) = user_id(store, "donor").await? {
        donors.push(campaigns::register_donor(&mut tx, uid, "09120000000").await?);
    }
    for (mobile, name) in [
        ("09121111111", "خیّر نمایشی دوم"),
        ("09351111111", "خیّر نمایشی سوم"),
    ] {
        let uid = users::create(
            &mut tx,
            users::NewUser {
                username: mobile.into(),
                display_name: name.into(),
                password: DEMO_PASSWORD.into(),
                role: Role::Donor,
                scope: Scope::Own,
                locale: "fa".into(),
                is_demo: true,
            },
        )
        .await?;
        donors.push(campaigns::register_donor(&mut tx, uid, mobile).await?);
    }
    tx.commit().await?;

    // Two campaigns running from a month ago to two months ahead.
    let mut tx = store.begin().await?;
    let national = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: NATIONAL_TITLE.into(),
            description: "کمک نقدی برای درمان، اجاره و بدهی و سبد غذایی و اقلام بهداشتی برای خانوارهای آسیب‌دیده از کرونا — داده‌های ساختگی".into(),
            organisation_id: None,
            province_code: None,
            county_code: None,
            goal_rials: 20_000_000_000,
            starts_on: starts.iso(),
            ends_on: ends.iso(),
            need_types: vec![
                ("food".into(), 2500),
                ("hygiene".into(), 1500),
                ("medical".into(), 0),
                ("rent_housing".into(), 0),
                ("debt_relief".into(), 0),
            ],
        },
        admin,
    )
    .await?;
    let tehran = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: TEHRAN_TITLE.into(),
            description: "سبد غذایی برای خانوارهای نیازمند استان تهران — داده‌های ساختگی".into(),
            organisation_id: None,
            province_code: Some("23".into()),
            county_code: None,
            goal_rials: 0,
            starts_on: starts.iso(),
            ends_on: ends.iso(),
            need_types: vec![("food".into(), 800)],
        },
        officer,
    )
    .await?;
    report.campaigns = 2;
    // Pledges; all but the last are received.
    let pledges = [
        (national, donors[0], MONEY, 6_000_000_000),
        (national, donors[1 % donors.len()], MONEY, 3_500_000_000),
        (national, donors[2 % donors.len()], "food", 1_200),
        (national, donors[0], "hygiene", 600),
        (tehran, donors[1 % donors.len()], "food", 500),
        (national, donors[2 % donors.len()], MONEY, 1_000_000_000),
    ];
    for (i, (campaign, donor, resource, amount)) in pledges.iter().enumerate() {
        let id = campaigns::pledge(&mut tx, *campaign, *donor, resource, *amount).await?;
        if i + 1 < pledges.len() {
            let reference = format!("DEMO-{:06}", 140_500 + i);
            campaigns::receive(&mut tx, id, *amount, &reference, admin).await?;
            report.donations += 1;
        }
    }
    tx.commit().await?;

    Ok((national, tehran))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_needs_are_valid_and_deterministic() {
        for h in 0..500 {
            for k in 0..2 {
                let (t, amount, _) = demo_need(h, k);
                assert!(amount > 0);
                assert!(
                    hamdeli_domain::needs::DEFAULT_NEED_TYPES
                        .iter()
                        .any(|d| d.0 == t)
                );
                assert_eq!(demo_need(h, k), demo_need(h, k));
            }
        }
    }

    #[test]
    fn needs_grow_with_the_population_about_one_household_in_five() {
        // A small demo: every household.
        assert!((0..EVERY_HOUSEHOLD_UP_TO).all(|r| has_needs(r, r as i64 + 1, false)));
        // A national one (22 % female-headed, female-headed first): about one in five.
        let households = 280_000usize;
        let female = households * 22 / 100;
        let chosen = (0..households)
            .filter(|&r| has_needs(r, r as i64 + 1, r < female))
            .count();
        let share = chosen as f64 / households as f64;
        assert!((0.17..0.23).contains(&share), "{share}");
        let female_chosen = (EVERY_HOUSEHOLD_UP_TO..female)
            .filter(|&r| has_needs(r, r as i64 + 1, true))
            .count() as f64
            / (female - EVERY_HOUSEHOLD_UP_TO) as f64;
        assert!((0.45..0.55).contains(&female_chosen), "{female_chosen}");
        // Deterministic.
        assert_eq!(has_needs(5000, 77, true), has_needs(5000, 77, true));
    }
}
