//! The synthetic demo data set: organisations and a user for every role and scope. Everything
//! it makes is flagged `is_demo`, and the installation is marked so every page says the data
//! is synthetic. Later capabilities add their own demo data here.

use anyhow::{Context, Result};

use hamdeli_domain::{PlaceFilter, Role, Scope};
use hamdeli_store::organisations::{self, NewOrganisation};
use hamdeli_store::users::{self, NewUser};
use hamdeli_store::{Store, geo, settings};

/// Every demo account signs in with this password.
pub const DEMO_PASSWORD: &str = "hamdeli-demo-1405";

pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    pub scope: String,
}

pub(crate) struct DemoOrg {
    pub(crate) name_fa: &'static str,
    pub(crate) name_en: &'static str,
    pub(crate) kind: &'static str,
}

pub(crate) const ORGS: [DemoOrg; 6] = [
    DemoOrg {
        name_fa: "کمیته امداد (نمایشی)",
        name_en: "Relief committee (demo)",
        kind: "relief_committee",
    },
    DemoOrg {
        name_fa: "سازمان بهزیستی (نمایشی)",
        name_en: "Welfare organisation (demo)",
        kind: "welfare",
    },
    DemoOrg {
        name_fa: "خیریه مهر نمایشی",
        name_en: "Mehr charity (demo)",
        kind: "charity",
    },
    DemoOrg {
        name_fa: "سمن توانا نمایشی",
        name_en: "Tavana NGO (demo)",
        kind: "ngo",
    },
    DemoOrg {
        name_fa: "دفتر امور زنان و خانواده (نمایشی)",
        name_en: "Women and family affairs office (demo)",
        kind: "office",
    },
    DemoOrg {
        name_fa: "جمعیت هلال احمر (نمایشی)",
        name_en: "Red Crescent (demo)",
        kind: "ngo",
    },
];

pub(crate) async fn org_id(store: &Store, org: &DemoOrg, province: Option<&str>) -> Result<i64> {
    if let Some(id) = organisations::id_by_name(store, org.name_fa).await? {
        return Ok(id);
    }
    let mut tx = store.begin().await?;
    let id = organisations::create(
        &mut tx,
        NewOrganisation {
            name_fa: org.name_fa.into(),
            name_en: org.name_en.into(),
            kind: org.kind.into(),
            province_code: province.map(String::from),
            is_demo: true,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The province with this English name and its first two counties.
async fn place(store: &Store, name_en: &str) -> Result<(String, Vec<String>)> {
    let provinces = geo::all_provinces(store).await?;
    let p = provinces
        .iter()
        .find(|p| p.name_en == name_en)
        .with_context(|| format!("reference data has no province {name_en}"))?;
    let counties = geo::counties_of(store, &p.code, &PlaceFilter::All).await?;
    anyhow::ensure!(!counties.is_empty(), "province {name_en} has no counties");
    // The capital's county first: that is where a demo expert would sit.
    let mut codes: Vec<String> = counties
        .iter()
        .filter(|c| c.name_fa == p.capital_fa)
        .chain(counties.iter().filter(|c| c.name_fa != p.capital_fa))
        .map(|c| c.code.clone())
        .collect();
    codes.truncate(2);
    Ok((p.code.clone(), codes))
}

/// Refuses to put the demo accounts (whose password is published) into a database that holds
/// anything else: a user or organisation not made by the demo, or — in a database not marked as
/// the demo's — any registry record or campaign. A fresh database or the demo's own is fine.
pub async fn check_may_seed(store: &Store) -> Result<()> {
    let users = users::list(store, &PlaceFilter::All).await?;
    let real_users = users.iter().filter(|u| !u.is_demo).count();
    let real_orgs = organisations::list(store, &PlaceFilter::All)
        .await?
        .iter()
        .filter(|o| !o.is_demo)
        .count();
    let unmarked_data = !settings::is_demo(store).await?
        && (!crate::demo_population::registry_is_empty(store).await?
            || !hamdeli_store::campaigns::list(store).await?.is_empty());
    anyhow::ensure!(
        real_users == 0 && real_orgs == 0 && !unmarked_data,
        "refusing --demo: this database already holds data that is not the demo's ({real_users} \
         users and {real_orgs} organisations not made by the demo{}). Every demo account's \
         password is published; run the demo on a fresh data directory (--data-dir) or database.",
        if unmarked_data {
            ", and records in a database not marked as the demo's"
        } else {
            ""
        }
    );
    Ok(())
}

/// Creates the demo data set if it is not there yet, and returns the demo logins.
pub async fn seed(store: &Store) -> Result<Vec<DemoLogin>> {
    let (tehran, tehran_counties) = place(store, "Tehran").await?;
    let (isfahan, isfahan_counties) = place(store, "Isfahan").await?;
    let relief = org_id(store, &ORGS[0], None).await?;
    let welfare = org_id(store, &ORGS[1], None).await?;
    org_id(store, &ORGS[2], Some(&tehran)).await?;
    org_id(store, &ORGS[3], Some(&isfahan)).await?;
    org_id(store, &ORGS[4], Some(&tehran)).await?;
    org_id(store, &ORGS[5], None).await?;

    let county = |p: &str, c: &str| Scope::County {
        province: p.into(),
        county: c.into(),
    };
    let second_tehran = tehran_counties
        .get(1)
        .unwrap_or(&tehran_counties[0])
        .clone();
    let accounts: Vec<(&str, &str, Role, Scope)> = vec![
        (
            "admin",
            "مدیر ستاد ملی (نمایشی)",
            Role::NationalAdmin,
            Scope::Country,
        ),
        (
            "tehran.officer",
            "کارشناس استان تهران (نمایشی)",
            Role::ProvincialOfficer,
            Scope::Province {
                province: tehran.clone(),
            },
        ),
        (
            "isfahan.officer",
            "کارشناس استان اصفهان (نمایشی)",
            Role::ProvincialOfficer,
            Scope::Province {
                province: isfahan.clone(),
            },
        ),
        (
            "tehran.expert",
            "کارشناس شهرستان تهران (نمایشی)",
            Role::CountyExpert,
            county(&tehran, &tehran_counties[0]),
        ),
        (
            "tehran2.expert",
            "کارشناس شهرستان دوم تهران (نمایشی)",
            Role::CountyExpert,
            county(&tehran, &second_tehran),
        ),
        (
            "isfahan.expert",
            "کارشناس شهرستان اصفهان (نمایشی)",
            Role::CountyExpert,
            county(&isfahan, &isfahan_counties[0]),
        ),
        (
            "relief.partner",
            "کاربر کمیته امداد (نمایشی)",
            Role::PartnerOrg,
            Scope::Organisation {
                organisation: relief,
            },
        ),
        (
            "welfare.partner",
            "کاربر بهزیستی (نمایشی)",
            Role::PartnerOrg,
            Scope::Organisation {
                organisation: welfare,
            },
        ),
        ("donor", "نیکوکار نمایشی", Role::Donor, Scope::Own),
        ("producer", "تولیدکننده نمایشی", Role::Producer, Scope::Own),
        (
            "volunteer",
            "مشاور داوطلب نمایشی",
            Role::Volunteer,
            Scope::Own,
        ),
    ];
    let mut logins = vec![];
    for (username, display, role, scope) in accounts {
        if users::id_by_username(store, username).await?.is_none() {
            let mut tx = store.begin().await?;
            users::create(
                &mut tx,
                NewUser {
                    username: username.into(),
                    display_name: display.into(),
                    password: DEMO_PASSWORD.into(),
                    role,
                    scope: scope.clone(),
                    locale: "fa".into(),
                    is_demo: true,
                },
            )
            .await
            .with_context(|| format!("creating demo user {username}"))?;
            tx.commit().await?;
        }
        logins.push(DemoLogin {
            username: username.into(),
            role,
            scope: scope.label(),
        });
    }
    settings::set(store, settings::DEMO_DATA, "1").await?;
    Ok(logins)
}

pub fn print_logins(address: Option<&str>, logins: &[DemoLogin]) {
    println!();
    println!("Hamdeli demo — SYNTHETIC DATA (داده‌های نمایشی و ساختگی)");
    if let Some(a) = address {
        println!("Open:     http://{a}/");
    }
    println!("Password: {DEMO_PASSWORD}  (for every demo account)");
    println!("{:<18} {:<20} scope", "username", "role");
    for l in logins {
        println!("{:<18} {:<20} {}", l.username, l.role.as_str(), l.scope);
    }
    println!();
}

/// Seeds the demo data of capabilities D–G (market, loans, network, reports) after the
/// population and the campaigns, and prints a line for each.
pub async fn seed_capabilities(store: &Store) {
    let seeds = [
        ("market", crate::demo_market::seed(store).await),
        ("loans", crate::demo_loans::seed(store).await),
        ("network", crate::demo_network::seed(store).await),
        ("reports", crate::demo_reports::seed(store).await),
    ];
    for (name, result) in seeds {
        match result {
            Ok(line) if line.is_empty() => {}
            Ok(line) => println!("{line}"),
            Err(e) => tracing::error!(error = %e, capability = name, "demo data could not be made"),
        }
    }
    // The demo wrote its tables in bulk just now: the planner's statistics follow, as after
    // any bulk load (a PostgreSQL without autovacuum would otherwise plan the delivery list for
    // 61 allocations instead of 36,000: 269 ms instead of 3 ms at a million people).
    if let Err(e) = store.refresh_planner_statistics().await {
        tracing::warn!(error = %e, "planner statistics not refreshed after the demo");
    }
}
