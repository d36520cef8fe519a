//! The demo data of capability loans, made through its use cases as a user would (never by
//! writing tables directly): three loan products, female-headed households entered by hand in two
//! Tehran counties and in Isfahan, Fars, Razavi Khorasan and East Azerbaijan (each province's
//! office sees its own), four cooperatives with members and a board, and loans in every
//! state — applied, approved (with contract), rejected, repaying, late, deferred, repaid.
//! Idempotent: a second run finds the products and does nothing.

use anyhow::{Context, Result};

use hamdeli_app::loans::{self as app, ApplicationInput, CooperativeInput, ProductInput};
use hamdeli_app::{Caller, entry};
use hamdeli_domain::PlaceFilter;
use hamdeli_store::{Store, geo};

/// Provinces other than Tehran with demo loans (their offices see their own).
const OTHER_PROVINCES: [&str; 4] = ["Isfahan", "Fars", "Razavi Khorasan", "East Azerbaijan"];

/// The office of each of those provinces that enters its households by hand.
const OTHER_OFFICES: [(&str, &str); 4] = [
    (
        "دفتر امور زنان و خانواده اصفهان (نمایشی)",
        "Isfahan women and family affairs office (demo)",
    ),
    (
        "دفتر امور زنان و خانواده فارس (نمایشی)",
        "Fars women and family affairs office (demo)",
    ),
    (
        "دفتر امور زنان و خانواده خراسان رضوی (نمایشی)",
        "Razavi Khorasan women and family affairs office (demo)",
    ),
    (
        "دفتر امور زنان و خانواده آذربایجان شرقی (نمایشی)",
        "East Azerbaijan women and family affairs office (demo)",
    ),
];

/// The county of a province's capital and another county of it.
async fn counties(store: &Store, name_en: &str) -> Result<(String, String)> {
    let provinces = geo::all_provinces(store).await?;
    let p = provinces
        .iter()
        .find(|p| p.name_en == name_en)
        .with_context(|| format!("no province {name_en}"))?;
    let cs = geo::counties_of(store, &p.code, &PlaceFilter::All).await?;
    let capital = cs
        .iter()
        .find(|c| c.name_fa == p.capital_fa)
        .or(cs.first())
        .context("no county")?;
    let other = cs
        .iter()
        .find(|c| c.code != capital.code)
        .unwrap_or(capital);
    Ok((capital.code.clone(), other.code.clone()))
}

const FIRST: [&str; 12] = [
    "مریم",
    "فاطمه",
    "زهرا",
    "معصومه",
    "سکینه",
    "لیلا",
    "نرگس",
    "طاهره",
    "رقیه",
    "شهناز",
    "مهین",
    "پروین",
];
const LAST: [&str; 12] = [
    "احمدی",
    "رضایی",
    "کریمی",
    "حسینی",
    "موسوی",
    "جعفری",
    "قاسمی",
    "صادقی",
    "نوری",
    "کاظمی",
    "رحیمی",
    "یوسفی",
];

/// Registers a female-headed household by hand and returns the head's national code.
async fn household(store: &Store, caller: &Caller<'_>, county: &str, i: usize) -> Result<String> {
    let code = hamdeli_text::NationalCode::generate(7_140_500_000 + i as u64 * 7919).to_string();
    let head = entry::MemberInput {
        person: entry::PersonInput {
            national_code: code.clone(),
            first_name: FIRST[i % FIRST.len()].into(),
            last_name: LAST[(i * 5) % LAST.len()].into(),
            father_name: "علی".into(),
            birth_date: format!("13{}/0{}/1{}", 50 + i % 20, 1 + i % 9, i % 9),
            gender: "female".into(),
            phone: format!("0912{:07}", 3_000_000 + i * 1_117),
            address: String::new(),
        },
        relation: "head".into(),
    };
    let input = entry::HouseholdInput {
        county: county.into(),
        zone: if i.is_multiple_of(3) {
            "rural"
        } else {
            "urban"
        }
        .into(),
        female_head: true,
        female_head_reason: if i.is_multiple_of(2) {
            "widowed"
        } else {
            "divorced"
        }
        .into(),
        dependants: format!("{}", 1 + i % 4),
        ..Default::default()
    };
    match entry::register_household(store, caller, &input, &[head]).await? {
        Ok(_) => Ok(code),
        Err(refusals) => anyhow::bail!("demo household refused: {refusals:?}"),
    }
}

fn key(tag: &str, n: usize) -> String {
    format!("demo-loans-{tag}-{n:04}")
}

/// Seeds capability loans's demo data once; returns a line for the console.
pub async fn seed(store: &Store) -> Result<String> {
    if hamdeli_store::loans::product_by_code(store, "qh-home")
        .await?
        .is_some()
    {
        return Ok(String::new());
    }
    let principal = hamdeli_app::system_principal();
    let caller = Caller::new(&principal, "demo");
    let c = &caller;
    let (tehran, tehran2) = counties(store, "Tehran").await?;

    let home = app::create_product(
        store,
        c,
        &ProductInput {
            code: "qh-home".into(),
            name_fa: "قرض‌الحسنه مشاغل خانگی زنان سرپرست خانوار".into(),
            name_en: "Home business loan for female heads of household".into(),
            fee_percent: "4".into(),
            max_amount: 3_000_000_000,
            term_months: 36,
            grace_months: 3,
            applicants: vec!["person".into(), "home_business".into()],
            female_head_only: true,
            fund_source: "fund".into(),
            fund_name: "صندوق کارآفرینی امید".into(),
        },
    )
    .await?;
    let coop_product = app::create_product(
        store,
        c,
        &ProductInput {
            code: "qh-coop".into(),
            name_fa: "قرض‌الحسنه تعاونی‌های زنان".into(),
            name_en: "Women's cooperatives loan".into(),
            fee_percent: "2.5".into(),
            max_amount: 20_000_000_000,
            term_months: 48,
            grace_months: 6,
            applicants: vec!["cooperative".into()],
            female_head_only: false,
            fund_source: "bank_line".into(),
            fund_name: "خط اعتباری بانک قرض‌الحسنه مهر ایران".into(),
        },
    )
    .await?;
    let covid = app::create_product(
        store,
        c,
        &ProductInput {
            code: "qh-covid".into(),
            name_fa: "قرض‌الحسنه حمایتی کرونا (از کمک‌های پویش)".into(),
            name_en: "COVID relief loan (from campaign donations)".into(),
            fee_percent: "0".into(),
            max_amount: 500_000_000,
            term_months: 12,
            grace_months: 0,
            applicants: vec!["person".into(), "home_business".into()],
            female_head_only: true,
            fund_source: "campaign".into(),
            fund_name: "پویش همدلی".into(),
        },
    )
    .await?;

    // Households: 10 in Tehran's county, 7 in the second Tehran county.
    let mut women = vec![];
    for i in 0..17 {
        let county = match i {
            0..=9 => &tehran,
            _ => &tehran2,
        };
        women.push(household(store, c, county, i).await?);
    }

    // Households of other provinces, so each province's office sees its own: three in each
    // (two in the capital's county, one in another county), women 17 onwards.
    let mut elsewhere: Vec<(usize, usize, usize)> = vec![];
    for (k, province) in OTHER_PROVINCES.iter().enumerate() {
        let (capital, other) = counties(store, province).await?;
        let code = geo::county(store, &capital)
            .await?
            .context("no county")?
            .province_code;
        let (name_fa, name_en) = OTHER_OFFICES[k];
        crate::demo::org_id(
            store,
            &crate::demo::DemoOrg {
                name_fa,
                name_en,
                kind: "office",
            },
            Some(&code),
        )
        .await?;
        let first = women.len();
        for j in 0..3 {
            let county = if j < 2 { &capital } else { &other };
            women.push(household(store, c, county, first + j).await?);
        }
        elsewhere.push((k, first, first + 2));
    }

    // Cooperatives with members and a board.
    let mut coops = vec![];
    for (i, (reg, name, field, county)) in [
        ("۱۲۳۴۵", "تعاونی خیاطی بانوان ری", "خیاطی و پوشاک", &tehran),
        (
            "۲۳۴۵۶",
            "تعاونی صنایع دستی مهرآفرین",
            "صنایع دستی",
            &tehran2,
        ),
        (
            "۳۴۵۶۷",
            "تعاونی فرآورده‌های غذایی مهر",
            "فرآورده‌های غذایی",
            &tehran2,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let id = app::create_cooperative(
            store,
            c,
            &CooperativeInput {
                registration_no: reg.into(),
                name: name.into(),
                field: field.into(),
                county: county.clone(),
            },
        )
        .await?;
        let members: &[usize] = match i {
            0 => &[0, 1, 2, 3],
            1 => &[10, 11, 12],
            _ => &[13, 14, 15, 16],
        };
        for (k, m) in members.iter().enumerate() {
            let role = match k {
                0 => Some("chair"),
                1 => Some("treasurer"),
                2 => Some("secretary"),
                _ => None,
            };
            app::add_member(store, c, id, &women[*m], role).await?;
        }
        coops.push(id);
    }

    let apply =
        |product: i64, code: Option<&str>, coop: Option<i64>, amount: i64, purpose: &str| {
            ApplicationInput {
                product_id: product,
                applicant_kind: if coop.is_some() {
                    "cooperative"
                } else {
                    "home_business"
                }
                .into(),
                national_code: code.map(str::to_owned),
                person_id: None,
                cooperative_id: coop,
                amount,
                months: None,
                purpose: purpose.into(),
                documents: "کارت ملی، پروانهٔ کسب خانگی، معرفی‌نامهٔ بهزیستی".into(),
            }
        };
    let mut made = 0;
    // (applicant, product, amount rials, state, start) — start dates in the past make a loan
    // late; `repaid` pays everything.
    let plan: Vec<(usize, i64, i64, &str, &str)> = vec![
        (0, home, 1_500_000_000, "applied", ""),
        (1, home, 800_000_000, "approved", ""),
        (2, home, 2_500_000_000, "rejected", ""),
        (3, home, 1_200_000_000, "repaying", "1404/12/15"),
        (4, home, 600_000_000, "late", "1404/06/10"),
        (5, home, 900_000_000, "late", "1404/01/31"),
        (6, covid, 300_000_000, "deferred", "1405/03/01"),
        (7, covid, 200_000_000, "repaid", "1405/01/20"),
        (8, home, 1_000_000_000, "repaying", "1405/02/05"),
        (9, covid, 250_000_000, "deferred", "1404/11/11"),
        (10, home, 700_000_000, "repaying", "1405/03/01"),
        (11, home, 1_100_000_000, "late", "1404/08/30"),
        (13, home, 1_300_000_000, "repaying", "1405/04/10"),
        (14, covid, 400_000_000, "late", "1404/07/07"),
        (15, home, 500_000_000, "applied", ""),
    ];
    // Each other province: one repaying, one late (from its second household), one applied.
    let mut plan = plan;
    for (k, first, _) in &elsewhere {
        let late_start = ["1404/05/20", "1404/09/09", "1404/03/03", "1404/10/10"][k % 4];
        plan.push((
            *first,
            home,
            900_000_000 + *k as i64 * 100_000_000,
            "repaying",
            "1405/02/20",
        ));
        plan.push((first + 1, covid, 350_000_000, "late", late_start));
        plan.push((first + 2, home, 600_000_000, "applied", ""));
    }
    for (n, (w, product, amount, state, start)) in plan.iter().enumerate() {
        let (id, _) = app::apply(
            store,
            c,
            &apply(
                *product,
                Some(&women[*w]),
                None,
                *amount,
                "خرید چرخ خیاطی و مواد اولیه",
            ),
        )
        .await?;
        made += 1;
        advance(store, c, id, state, start, n).await?;
    }
    // A cooperative in Isfahan with its own loan.
    if let Some((_, first, last)) = elsewhere.first() {
        let (isfahan, _) = counties(store, OTHER_PROVINCES[0]).await?;
        let id = app::create_cooperative(
            store,
            c,
            &CooperativeInput {
                registration_no: "۴۵۶۷۸".into(),
                name: "تعاونی فرش دستباف بانوان نائین".into(),
                field: "فرش دستباف".into(),
                county: isfahan,
            },
        )
        .await?;
        for (k, m) in (*first..=*last).enumerate() {
            let role = if k == 0 { Some("chair") } else { None };
            app::add_member(store, c, id, &women[m], role).await?;
        }
        let (loan, _) = app::apply(
            store,
            c,
            &apply(
                coop_product,
                None,
                Some(id),
                6_000_000_000,
                "خرید دار قالی و پشم",
            ),
        )
        .await?;
        advance(store, c, loan, "repaying", "1404/12/01", 103).await?;
        made += 1;
    }
    // Cooperatives' loans.
    let (id, _) = app::apply(
        store,
        c,
        &apply(
            coop_product,
            None,
            Some(coops[0]),
            8_000_000_000,
            "خرید دستگاه برش و سردوز صنعتی",
        ),
    )
    .await?;
    advance(store, c, id, "repaying", "1404/10/01", 100).await?;
    let (id, _) = app::apply(
        store,
        c,
        &apply(
            coop_product,
            None,
            Some(coops[2]),
            12_000_000_000,
            "تجهیز کارگاه بسته‌بندی",
        ),
    )
    .await?;
    advance(store, c, id, "approved", "", 101).await?;
    made += 2;
    // The demo producer applies herself (her home business; the registry knows her as a female
    // head of household); the office disburses it and grants her a deferral: she sees her new
    // schedule on her loan's page.
    let producer = match hamdeli_store::users::id_by_username(store, "producer").await? {
        Some(uid) => hamdeli_store::users::by_id(store, uid).await?,
        None => None,
    };
    if let Some(user) = producer {
        let producer = user.principal();
        let pc = Caller::new(&producer, "demo");
        let (id, _) = app::apply(
            store,
            &pc,
            &apply(
                home,
                Some(&women[16]),
                None,
                400_000_000,
                "خرید دستگاه بسته‌بندی",
            ),
        )
        .await?;
        advance(store, c, id, "deferred", "1405/05/05", 102).await?;
        made += 1;
    }
    Ok(format!(
        "loans: 3 products, 4 cooperatives, {} female-headed households in {} provinces, {made} loans in every state",
        women.len(),
        1 + OTHER_PROVINCES.len()
    ))
}

/// Takes a freshly applied loan to `state` through the use cases.
async fn advance(
    store: &Store,
    c: &Caller<'_>,
    id: i64,
    state: &str,
    start: &str,
    n: usize,
) -> Result<()> {
    match state {
        "applied" => return Ok(()),
        "rejected" => {
            app::comment(store, c, id, "درآمد خانوار برای این مبلغ کافی نیست").await?;
            app::decide(store, c, id, false, "مبلغ بیش از توان بازپرداخت").await?;
            return Ok(());
        }
        _ => {}
    }
    app::comment(
        store,
        c,
        id,
        "مدارک کامل است؛ بازدید از کارگاه خانگی انجام شد",
    )
    .await?;
    app::decide(store, c, id, true, "با پرداخت موافقت می‌شود").await?;
    app::contract(store, c, id, &format!("ق-۱۴۰۵-{n:04}")).await?;
    if state == "approved" {
        return Ok(());
    }
    app::disburse(store, c, id, start, &key("disburse", n)).await?;
    let view = app::view(store, c, id).await?;
    let today = hamdeli_store::loans::today_in_iran();
    let due: Vec<_> = view
        .instalments
        .iter()
        .filter(|i| i.due_on < today)
        .collect();
    let iso = |days: i64| {
        hamdeli_text::IsoDate::from_days(days)
            .map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
            .unwrap_or_default()
    };
    match state {
        "repaying" | "deferred" => {
            // Every instalment due so far, paid on its day.
            for (k, i) in due.iter().enumerate() {
                app::repay(
                    store,
                    c,
                    id,
                    i.total,
                    &iso(i.due_on),
                    &key(&format!("pay{n}"), k),
                )
                .await?;
            }
            if state == "deferred" {
                let next = view
                    .instalments
                    .iter()
                    .find(|i| i.due_on >= today)
                    .map(|i| i.n)
                    .unwrap_or(view.loan.months);
                let d = app::request_deferral(store, c, id, next, 3, "کاهش درآمد در همه‌گیری کرونا")
                    .await?;
                app::decide_deferral(store, c, id, d, true).await?;
            }
        }
        "late" => {
            // The first instalment or two paid, then nothing.
            for (k, i) in due.iter().take(1 + n % 2).enumerate() {
                app::repay(
                    store,
                    c,
                    id,
                    i.total,
                    &iso(i.due_on),
                    &key(&format!("pay{n}"), k),
                )
                .await?;
            }
        }
        "repaid" => {
            let total = view.loan.amount + view.loan.fee_total;
            app::repay(store, c, id, total, &iso(today), &key("payoff", n)).await?;
        }
        _ => {}
    }
    Ok(())
}
