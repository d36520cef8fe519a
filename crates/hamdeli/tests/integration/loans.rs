//! Capability loans, end to end.

use std::process::Command;

/// `hamdeli loans schedule` prints the CSV, accepts Persian digits, and refuses a bad
/// argument with one line and a non-zero exit.
#[test]
fn schedule_cli_prints_the_csv_and_refuses_bad_arguments() {
    let dir = crate::support::temp_dir();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hamdeli"))
            .arg("--data-dir")
            .arg(&dir.0)
            .args(["loans", "schedule"])
            .args(args)
            .output()
            .expect("run hamdeli")
    };
    let out = run(&[
        "--principal",
        "۱۰۰۰۰۰۰۰۰",
        "--months",
        "12",
        "--fee-percent",
        "4",
        "--start",
        "1405/01/31",
        "--defer-from",
        "4",
        "--defer-months",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "n,due_jalali,due_gregorian,principal_rials,fee_rials,total_rials,balance_rials"
    );
    assert_eq!(lines.len(), 13);
    // Fee ⌊100,000,000 × 4 × 13 / 2400⌋ = 2,166,666; instalments 8,513,888, last 8,513,898.
    assert_eq!(
        lines[1],
        "1,1405/02/31,2026-05-21,8333333,180555,8513888,93652778"
    );
    // Instalment 4 was due in Mordad (the 31st) and moves to Aban, which has 30 days.
    assert_eq!(
        lines[4],
        "4,1405/08/30,2026-11-21,8333333,180555,8513888,68111114"
    );
    assert_eq!(
        lines[12],
        "12,1406/04/31,2027-07-22,8333337,180561,8513898,0"
    );

    let out = run(&[
        "--principal",
        "50000000",
        "--months",
        "3",
        "--fee-percent",
        "2.5",
        "--start",
        "۱۴۰۳/۱۱/۳۰",
        "--grace-months",
        "1",
    ]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    // ⌊50,000,000 × 2.5 × 4 / 2400⌋ = 208,333; each 16,736,111, last 16,736,111; fee 69,444 (last 69,445).
    // 1403 is leap: Esfand 1403 has 30 days, so 1403/11/30 + 1 grace + 1 = 1404/01/30.
    assert_eq!(
        csv.lines().nth(1),
        Some("1,1404/01/30,2025-04-19,16666667,69444,16736111,33472222")
    );
    assert_eq!(
        csv.lines().nth(3),
        Some("3,1404/03/30,2025-06-20,16666666,69445,16736111,0")
    );

    for bad in [
        vec![
            "--principal",
            "abc",
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "0",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "12",
            "--fee-percent",
            "4.12345",
            "--start",
            "1405/01/31",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/12/30",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
            "--defer-from",
            "13",
            "--defer-months",
            "1",
        ],
        vec![
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
        ],
    ] {
        let out = run(&bad);
        assert!(!out.status.success(), "{bad:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).expect("utf-8");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad:?}: {err}");
    }
}

use hamdeli_app::loans::{self as app, ApplicationInput, ProductInput};
use hamdeli_app::{Caller, entry};
use hamdeli_domain::loans::schedule::{self, Deferral, FeeRate, Terms};
use hamdeli_store::loans as st;
use reqwest::StatusCode;
use sqlx::Row;

use crate::support::{Client, TestApp, code, spawn_app};

async fn tehran_county(app: &TestApp) -> String {
    hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap()
        .scope
        .county()
        .unwrap()
        .to_owned()
}

/// Registers a household by hand (as the command line's system principal) and returns the
/// head's national code.
async fn woman(app: &TestApp, county: &str, n: u64, female_head: bool) -> String {
    let p = hamdeli_app::system_principal();
    let caller = Caller::new(&p, "test");
    let nc = code(900_000 + n);
    let head = entry::MemberInput {
        person: entry::PersonInput {
            national_code: nc.clone(),
            first_name: "مریم".into(),
            last_name: format!("آزمون{n}"),
            father_name: "علی".into(),
            birth_date: "1360/01/01".into(),
            gender: "female".into(),
            phone: format!("0912{:07}", 1_000_000 + n),
            address: String::new(),
        },
        relation: "head".into(),
    };
    let input = entry::HouseholdInput {
        county: county.into(),
        zone: "urban".into(),
        female_head,
        female_head_reason: if female_head { "widowed" } else { "" }.into(),
        dependants: "2".into(),
        ..Default::default()
    };
    entry::register_household(&app.store, &caller, &input, &[head])
        .await
        .unwrap()
        .expect("household accepted");
    nc
}

async fn product(app: &TestApp, code: &str, fee: &str, grace: i64) -> i64 {
    let p = hamdeli_app::system_principal();
    let caller = Caller::new(&p, "test");
    app::create_product(
        &app.store,
        &caller,
        &ProductInput {
            code: code.into(),
            name_fa: "وام آزمون".into(),
            name_en: "Test loan".into(),
            fee_percent: fee.into(),
            max_amount: 5_000_000_000,
            term_months: 24,
            grace_months: grace,
            applicants: vec!["person".into(), "home_business".into()],
            female_head_only: true,
            fund_source: "fund".into(),
            fund_name: "صندوق".into(),
        },
    )
    .await
    .unwrap()
}

/// Applies, approves, contracts and disburses a loan as the system principal; its id.
async fn disbursed(
    app: &TestApp,
    product: i64,
    nc: &str,
    amount: i64,
    months: i64,
    start: &str,
) -> i64 {
    let p = hamdeli_app::system_principal();
    let c = Caller::new(&p, "test");
    let (id, _) = app::apply(
        &app.store,
        &c,
        &ApplicationInput {
            product_id: product,
            applicant_kind: "person".into(),
            national_code: Some(nc.into()),
            amount,
            months: Some(months),
            purpose: "کارگاه".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    app::decide(&app.store, &c, id, true, "").await.unwrap();
    app::contract(&app.store, &c, id, &format!("C-{id}"))
        .await
        .unwrap();
    app::disburse(&app.store, &c, id, start, &format!("disburse-key-{id}"))
        .await
        .unwrap();
    id
}

fn location_id(r: &reqwest::Response) -> i64 {
    let loc = r.headers()["location"].to_str().unwrap();
    loc.trim_start_matches("/loans/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Balanced journal, and each loan's receivable equals what it still owes.
async fn check_ledger(app: &TestApp) {
    let r = sqlx::query("SELECT CAST(COALESCE(SUM(debit), 0) AS BIGINT), CAST(COALESCE(SUM(credit), 0) AS BIGINT) FROM loan_journal")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (d, c): (i64, i64) = (r.get(0), r.get(1));
    assert_eq!(d, c, "the journal balances");
    let rows = sqlx::query(
        "SELECT l.id, l.amount + l.fee_total - l.paid_total, \
         (SELECT CAST(COALESCE(SUM(j.debit - j.credit), 0) AS BIGINT) FROM loan_journal j \
          WHERE j.loan_id = l.id AND j.account = 'loan_receivable'), \
         (SELECT CAST(COALESCE(SUM(i.total - i.paid), 0) AS BIGINT) FROM loan_instalments i WHERE i.loan_id = l.id) \
         FROM loans l WHERE l.status IN ('disbursed', 'repaid')",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        let (id, owed, receivable, open): (i64, i64, i64, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        assert_eq!(owed, receivable, "loan {id}: receivable = outstanding");
        assert_eq!(owed, open, "loan {id}: open instalments = outstanding");
    }
}

#[tokio::test]
async fn demo_has_loans_in_every_state_and_is_idempotent() {
    let app = spawn_app().await;
    // The test app may have seeded it already: then the first call finds it.
    hamdeli::demo_loans::seed(&app.store).await.unwrap();
    assert!(
        st::product_by_code(&app.store, "qh-home")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(hamdeli::demo_loans::seed(&app.store).await.unwrap(), "");
    let p = hamdeli_app::system_principal();
    let c = Caller::new(&p, "test");
    let all = app::list(
        &app.store,
        &c,
        &st::LoanFilter {
            limit: 1000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for s in ["applied", "approved", "rejected", "disbursed", "repaid"] {
        assert!(all.iter().any(|l| l.status == s), "a loan {s}");
    }
    assert!(
        all.iter()
            .any(|l| l.status == "disbursed" && l.days_late > 0),
        "a late loan"
    );
    assert!(all.iter().any(|l| l.deferred_months > 0), "a deferred loan");
    // 18 in Tehran, 3 in each of four other provinces and an Isfahan cooperative's.
    assert_eq!(all.len(), 31);
    check_ledger(&app).await;
    // Pages render for the offices.
    let officer = app.login("tehran.officer").await;
    for path in [
        "/loans",
        "/loans?status=late",
        "/loans/late",
        "/loans/portfolio",
        "/loans/portfolio?by=month",
        "/loans/portfolio?by=product",
        "/loans/cooperatives",
        "/loans/products",
        "/loans/bulk-deferral",
        "/loans/statements",
    ] {
        let (s, html) = officer.get_text(path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(html.contains("dir=\"rtl\""), "{path} in Persian");
    }
    let (_, html) = officer.get_text("/loans/portfolio").await;
    assert!(html.contains("<svg"), "a chart");
    let r = officer.get("/loans/portfolio?format=xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let (_, late) = officer.get_text("/loans/late").await;
    assert!(late.contains("data-testid=\"loans-late-list\""));
    // Isfahan's officer sees her province's loans and none of Tehran's.
    let isfahan = app.login("isfahan.officer").await;
    let (_, html) = isfahan.get_text("/loans").await;
    let isfahan_code = &all
        .iter()
        .find(|l| l.county_name.contains("اصفهان"))
        .expect("a demo loan in Isfahan")
        .province;
    let own = all.iter().filter(|l| &l.province == isfahan_code).count();
    assert_eq!(own, 4, "three households' loans and a cooperative's");
    assert_eq!(
        html.matches("data-loan=").count(),
        own,
        "her own province's only"
    );
    let any = all
        .iter()
        .find(|l| l.province == "23")
        .expect("a Tehran loan");
    let (s, _) = isfahan.get_text(&format!("/loans/{}", any.id)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The producer sees only her own loan, with its new schedule after the deferral.
    let producer = app.login("producer").await;
    let (_, html) = producer.get_text("/loans").await;
    assert_eq!(html.matches("data-loan=").count(), 1, "her own loan only");
    let own = all
        .iter()
        .find(|l| l.applicant_user_id == Some(app.user_ids["producer"]))
        .expect("the producer's loan");
    assert!(own.deferred_months > 0);
    let (s, html) = producer.get_text(&format!("/loans/{}", own.id)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("loan-schedule") && html.contains("loan-deferrals"));
    let other = all.iter().find(|l| l.id != own.id).unwrap();
    let (s, _) = producer.get_text(&format!("/loans/{}", other.id)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A partner originated none of them.
    let partner = app.login("relief.partner").await;
    let (_, html) = partner.get_text("/loans").await;
    assert!(html.contains("loans-empty"));
    app.stop().await;
}

#[tokio::test]
async fn application_review_disbursement_and_repayments_over_http() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let fh = woman(&app, &county, 1, true).await;
    let not_fh = woman(&app, &county, 2, false).await;
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/loans/products",
            &[
                ("code", "home-4"),
                ("name_fa", "قرض‌الحسنه مشاغل خانگی"),
                ("fee_percent", "۴"),
                ("max_amount", "100,000,000"),
                ("term_months", "12"),
                ("grace_months", "0"),
                ("applicant_person", "1"),
                ("applicant_home_business", "1"),
                ("female_head_only", "1"),
                ("fund_source", "fund"),
                ("fund_name", "صندوق"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let product = st::product_by_code(&app.store, "home-4")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(product.fee_units, 40_000);
    assert_eq!(product.max_amount, 1_000_000_000);

    let expert = app.login("tehran.expert").await;
    let apply = |nc: String| {
        let expert = &expert;
        let pid = product.id.to_string();
        async move {
            expert
                .post_form(
                    "/loans",
                    &[
                        ("product", &pid),
                        ("kind", "home_business"),
                        ("national_code", &nc),
                        ("amount", "۱۰٬۰۰۰٬۰۰۰"),
                        ("months", "12"),
                        ("purpose", "خرید چرخ خیاطی"),
                    ],
                )
                .await
        }
    };
    // The registry says she is not a female head of household: refused in words.
    let r = apply(not_fh).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("سرپرست خانوار نیست"));
    let r = apply(fh.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = location_id(&r);
    let url = format!("/loans/{id}");
    let (s, html) = expert.get_text(&url).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-status=\"applied\""));
    // The county expert comments but does not decide.
    let r = expert
        .post_form(&format!("{url}/comment"), &[("body", "بازدید شد")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = expert
        .post_form(&format!("{url}/decide"), &[("decision", "approve")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let officer = app.login("tehran.officer").await;
    let r = officer
        .post_form(
            &format!("{url}/decide"),
            &[("decision", "approve"), ("body", "موافقت")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // No disbursement before the contract.
    let r = officer
        .post_form(
            &format!("{url}/disburse"),
            &[("start", "1405/01/31"), ("key", "disburse-aaaaaaaa")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = officer
        .post_form(&format!("{url}/contract"), &[("contract_no", "۱۴۰۵-۷۷")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for _ in 0..2 {
        let r = officer
            .post_form(
                &format!("{url}/disburse"),
                &[("start", "۱۴۰۵/۰۱/۳۱"), ("key", "disburse-bbbbbbbb")],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "the same key twice: once"
        );
    }
    let v = app::view(
        &app.store,
        &Caller::new(&hamdeli_app::system_principal(), "t"),
        id,
    )
    .await
    .unwrap();
    assert_eq!(v.loan.status, "disbursed");
    assert_eq!(v.instalments.len(), 12);
    // The stored schedule is the domain's, by the rules.
    let expected = schedule::schedule(
        &Terms {
            principal: 100_000_000,
            months: 12,
            fee: FeeRate::parse("4").unwrap(),
            start: schedule::parse_jalali("1405/01/31").unwrap(),
            grace_months: 0,
        },
        &[],
    )
    .unwrap();
    for (a, b) in v.instalments.iter().zip(&expected) {
        assert_eq!((a.principal, a.fee, a.total), (b.principal, b.fee, b.total));
        assert_eq!(a.due_on, b.due.to_iso().to_days());
    }
    assert_eq!(v.loan.fee_total, 2_166_666);
    let (_, html) = officer.get_text(&url).await;
    assert!(html.contains("۱۴۰۵/۰۷/۳۰"), "Jalali due dates on the page");
    let tomans = hamdeli_locale::format_tomans(hamdeli_locale::Locale::Fa, 8_513_888);
    assert!(html.contains(&tomans), "instalments in tomans: {tomans}");

    // Repayment by the county expert: the same key twice pays once; another body under it is refused.
    for _ in 0..2 {
        let r = expert
            .post_form(
                &format!("{url}/repay"),
                &[
                    ("amount", "851388"),
                    ("date", "1405/02/31"),
                    ("key", "repay-cccccccc"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = expert
        .post_form(
            &format!("{url}/repay"),
            &[
                ("amount", "100"),
                ("date", "1405/02/31"),
                ("key", "repay-cccccccc"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v = app::view(
        &app.store,
        &Caller::new(&hamdeli_app::system_principal(), "t"),
        id,
    )
    .await
    .unwrap();
    assert_eq!(v.payments.len(), 1);
    assert_eq!(v.loan.paid_total, 8_513_880);
    // A partial payment stays on the first instalment; an early one runs into the next.
    assert_eq!(v.instalments[0].paid, 8_513_880);
    let r = expert
        .post_form(
            &format!("{url}/repay"),
            &[
                ("amount", "1,000,000"),
                ("date", "1405/03/01"),
                ("key", "repay-dddddddd"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = app::view(
        &app.store,
        &Caller::new(&hamdeli_app::system_principal(), "t"),
        id,
    )
    .await
    .unwrap();
    assert_eq!(v.instalments[0].paid, v.instalments[0].total);
    assert_eq!(v.instalments[1].paid, v.instalments[1].total);
    assert_eq!(v.instalments[2].paid, 10_000_000 - 8 - 8_513_888);
    // More than is owed is refused.
    let r = expert
        .post_form(
            &format!("{url}/repay"),
            &[
                ("amount", "20,000,000"),
                ("date", "1405/03/01"),
                ("key", "repay-eeeeeeee"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A deferral asked for by the expert and decided by the officer moves 4 … 12 by 3 months.
    let r = expert
        .post_form(
            &format!("{url}/deferrals"),
            &[("from", "4"), ("months", "3"), ("reason", "کرونا")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let did = st::deferrals(&app.store, id).await.unwrap()[0].id;
    let r = officer
        .post_form(
            &format!("{url}/deferrals/{did}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = app::view(
        &app.store,
        &Caller::new(&hamdeli_app::system_principal(), "t"),
        id,
    )
    .await
    .unwrap();
    let moved = schedule::schedule(
        &Terms {
            principal: 100_000_000,
            months: 12,
            fee: FeeRate::parse("4").unwrap(),
            start: schedule::parse_jalali("1405/01/31").unwrap(),
            grace_months: 0,
        },
        &[Deferral { from: 4, months: 3 }],
    )
    .unwrap();
    for (a, b) in v.instalments.iter().zip(&moved) {
        assert_eq!(a.due_on, b.due.to_iso().to_days(), "instalment {}", a.n);
        assert_eq!(a.total, b.total);
    }
    // Outside the scope: not found.
    let isfahan = app.login("isfahan.officer").await;
    assert_eq!(isfahan.get(&url).await.status(), StatusCode::NOT_FOUND);
    check_ledger(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn concurrent_requests_with_one_key_move_money_once() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let nc = woman(&app, &county, 3, true).await;
    let pid = product(&app, "conc", "2.5", 0).await;
    let id = disbursed(&app, pid, &nc, 50_000_000, 10, "1405/06/31").await;
    let store = app.store.clone();
    let mut tasks = vec![];
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let p = hamdeli_app::system_principal();
            let c = Caller::new(&p, "test");
            app::repay(&store, &c, id, 5_000_000, "2026-12-01", "same-key-0001").await
        }));
    }
    let mut done = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            app::Keyed::Done(_) => done += 1,
            app::Keyed::Replayed(_) => {}
        }
    }
    assert_eq!(done, 1);
    assert_eq!(st::payments(&store, id).await.unwrap().len(), 1);
    // Eight different keys each paying everything that is owed: exactly one is booked.
    let owed = {
        let l = st::loan(&store, id).await.unwrap().unwrap();
        l.amount + l.fee_total - l.paid_total
    };
    let mut tasks = vec![];
    for k in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let p = hamdeli_app::system_principal();
            let c = Caller::new(&p, "test");
            app::repay(
                &store,
                &c,
                id,
                owed,
                "2026-12-02",
                &format!("payoff-key-{k:04}"),
            )
            .await
        }));
    }
    let ok = futures_count(tasks).await;
    assert_eq!(ok, 1);
    let l = st::loan(&store, id).await.unwrap().unwrap();
    assert_eq!(l.status, "repaid");
    assert_eq!(l.paid_total, l.amount + l.fee_total);
    check_ledger(&app).await;
    app.stop().await;
}

async fn futures_count(
    tasks: Vec<tokio::task::JoinHandle<hamdeli_app::Result<app::Keyed<app::Payment>>>>,
) -> usize {
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    ok
}

#[tokio::test]
async fn bulk_deferral_previews_then_commits_once() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let pid = product(&app, "bulk", "4", 1).await;
    let mut loans = vec![];
    for n in 0..6 {
        let nc = woman(&app, &county, 10 + n, true).await;
        let start = [
            "1405/01/31",
            "1405/02/15",
            "1405/06/31",
            "1405/03/01",
            "1405/05/10",
            "1405/04/30",
        ][n as usize];
        loans.push((
            disbursed(&app, pid, &nc, 24_000_000 + n as i64 * 1_000, 12, start).await,
            start,
        ));
    }
    let officer = app.login("tehran.officer").await;
    let province = county[..2].to_owned();
    let fields = |action: &'static str, key: &'static str| {
        let province = province.clone();
        vec![
            ("province", province),
            ("due_from", "1405/10/01".to_owned()),
            ("due_to", "1405/12/29".to_owned()),
            ("months", "3".to_owned()),
            ("female_head_only", "1".to_owned()),
            ("reason", "کرونا".to_owned()),
            ("action", action.to_owned()),
            ("key", key.to_owned()),
        ]
    };
    let post = |c: &Client, f: Vec<(&'static str, String)>| {
        let c = Client {
            http: c.http.clone(),
            base: c.base.clone(),
        };
        async move {
            let v: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
            c.post_form("/loans/bulk-deferral", &v).await
        }
    };
    let r = post(&officer, fields("preview", "bulk-key-00000001")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("loans-bulk-lines"));
    assert!(html.contains("loans-bulk-commit"));
    // Nothing moved by a preview.
    assert!(
        st::deferrals(&app.store, loans[0].0)
            .await
            .unwrap()
            .is_empty()
    );
    for _ in 0..2 {
        let r = post(&officer, fields("commit", "bulk-key-00000002")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("loans-bulk-result"));
    }
    for (id, start) in &loans {
        let ds = st::deferrals(&app.store, *id).await.unwrap();
        assert_eq!(ds.len(), 1, "loan {id} deferred once");
        let d = &ds[0];
        let want = schedule::schedule(
            &Terms {
                principal: st::loan(&app.store, *id).await.unwrap().unwrap().amount,
                months: 12,
                fee: FeeRate::parse("4").unwrap(),
                start: schedule::parse_jalali(start).unwrap(),
                grace_months: 1,
            },
            &[Deferral {
                from: d.from_n as u32,
                months: 3,
            }],
        )
        .unwrap();
        // The first instalment moved is the first one due in the period.
        let plain = schedule::schedule(
            &Terms {
                principal: st::loan(&app.store, *id).await.unwrap().unwrap().amount,
                months: 12,
                fee: FeeRate::parse("4").unwrap(),
                start: schedule::parse_jalali(start).unwrap(),
                grace_months: 1,
            },
            &[],
        )
        .unwrap();
        let first = plain
            .iter()
            .find(|r| schedule::jalali_text(r.due).as_str() >= "1405/10/01")
            .unwrap();
        assert_eq!(d.from_n, i64::from(first.n));
        let got = st::instalments(&app.store, *id).await.unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert_eq!(
                a.due_on,
                b.due.to_iso().to_days(),
                "loan {id} instalment {}",
                a.n
            );
        }
    }
    // Another province's officer may not defer Tehran's loans.
    let isfahan = app.login("isfahan.officer").await;
    let r = post(&isfahan, fields("preview", "bulk-key-00000003")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    check_ledger(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn bank_statement_rows_are_matched_once() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let pid = product(&app, "stmt", "4", 0).await;
    let nc = woman(&app, &county, 30, true).await;
    let id = disbursed(&app, pid, &nc, 12_000_000, 12, "1405/01/01").await;
    let loan = st::loan(&app.store, id).await.unwrap().unwrap();
    let inst = st::instalments(&app.store, id).await.unwrap();
    let csv = format!(
        "loan_no,amount,date,reference\n{no},{a},1405/02/01,REF-1\n{no},{a},۱۴۰۵/۰۳/۰۱,REF-2\nQH-XX-1,1000,1405/03/01,REF-3\n{no},{a},1405/03/01,REF-1\n{no},999999999,1405/03/01,REF-4\n",
        no = loan.loan_no,
        a = inst[0].total
    );
    let officer = app.login("tehran.officer").await;
    let upload = |key: &'static str| {
        let officer = &officer;
        let csv = csv.clone();
        async move {
            let token = officer.csrf().await;
            let form = reqwest::multipart::Form::new()
                .text("_csrf", token.clone())
                .text("key", key)
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("bank.csv"),
                );
            officer
                .http
                .post(format!("{}/loans/statements", officer.base))
                .header("x-csrf-token", token)
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    let r = upload("statement-key-1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("loans-statement-report"));
    assert_eq!(st::payments(&app.store, id).await.unwrap().len(), 2);
    // The same upload again (same key): nothing twice; a new key: the references are duplicates.
    let r = upload("statement-key-1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = upload("statement-key-2").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(st::payments(&app.store, id).await.unwrap().len(), 2);
    let l = st::loan(&app.store, id).await.unwrap().unwrap();
    assert_eq!(l.paid_total, inst[0].total * 2);

    // The JSON API: the loan in scope with its schedule; a repayment once per Idempotency-Key.
    let (s, body) = officer.get_text(&format!("/api/v1/loans/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["schedule"].as_array().unwrap().len(), 12);
    assert_eq!(v["schedule"][0]["due_jalali"], "1405/02/01");
    let token = officer.csrf().await;
    let mut receipts = vec![];
    for _ in 0..2 {
        let r = officer
            .http
            .post(format!("{}/api/v1/loans/{id}/repayments", officer.base))
            .header("x-csrf-token", token.clone())
            .header("idempotency-key", "api-repay-0001")
            .json(&serde_json::json!({"amount_rials": 1000, "paid_on": "1405/04/01"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: serde_json::Value = r.json().await.unwrap();
        receipts.push(v["receipt_no"].as_str().unwrap().to_owned());
    }
    assert_eq!(receipts[0], receipts[1]);
    let r = officer
        .http
        .post(format!("{}/api/v1/loans/{id}/repayments", officer.base))
        .header("x-csrf-token", token.clone())
        .header("idempotency-key", "api-repay-0001")
        .json(&serde_json::json!({"amount_rials": 2000, "paid_on": "1405/04/01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(st::payments(&app.store, id).await.unwrap().len(), 3);
    let isfahan = app.login("isfahan.officer").await;
    let (_, body) = isfahan.get_text("/api/v1/loans").await;
    assert!(!body.contains(&loan.loan_no));
    check_ledger(&app).await;
    app.stop().await;
}

/// A loan's schedule as rows to compare: (n, due month, due day, principal, fee, total, paid).
async fn rows_of(app: &TestApp, id: i64) -> Vec<(i64, i64, i64, i64, i64, i64, i64)> {
    st::instalments(&app.store, id)
        .await
        .unwrap()
        .iter()
        .map(|i| {
            (
                i.n,
                i.due_month,
                i.due_on,
                i.principal,
                i.fee,
                i.total,
                i.paid,
            )
        })
        .collect()
}

fn bulk_input(province: &str, product: i64) -> app::BulkInput {
    app::BulkInput {
        province: province.to_owned(),
        county: None,
        female_head_only: true,
        product_id: Some(product),
        due_from: "1405/10/01".into(),
        due_to: "1405/12/29".into(),
        months: 3,
    }
}

/// A bulk deferral leaves every loan exactly as the single-loan deferral from the same instalment
/// would: the same due months and days (anchored on the start day: 31st, 30th, 29th starts,
/// Esfand), amounts and payments, deferred months, and one approved deferral row; loans with an
/// earlier deferral, part-paid loans and a loan with nothing due in the period included.
#[tokio::test]
async fn bulk_deferral_equals_the_single_deferral_of_each_loan() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let province = county[..2].to_owned();
    let p = hamdeli_app::system_principal();
    let c = Caller::new(&p, "test");
    // Twins: the same loans under two products with the same terms; the bulk takes product A.
    let pa = product(&app, "twin-a", "2.5", 1).await;
    let pb = product(&app, "twin-b", "2.5", 1).await;
    let starts = [
        ("1405/01/31", 12),
        ("1405/06/31", 18),
        ("1405/02/30", 12),
        ("1404/11/30", 24),
        ("1405/03/29", 12),
        ("1404/12/29", 24),
        ("1405/07/15", 6),
        ("1406/01/01", 12), // first due 1406/03/01: nothing in the period
    ];
    let mut twins = vec![];
    for (k, (start, months)) in starts.iter().enumerate() {
        let mut pair = vec![];
        for (j, pid) in [pa, pb].into_iter().enumerate() {
            let nc = woman(&app, &county, 100 + 2 * k as u64 + j as u64, true).await;
            let amount = 30_000_000 + k as i64 * 7_001;
            pair.push(disbursed(&app, pid, &nc, amount, *months, start).await);
        }
        twins.push((pair[0], pair[1]));
    }
    // History before the bulk, the same on both twins: a part payment, a payment of the first
    // instalments of the period, an earlier single deferral.
    for (a, b) in [twins[1], twins[2]] {
        for id in [a, b] {
            let l = st::loan(&app.store, id).await.unwrap().unwrap();
            let pay = if id == twins[1].0 || id == twins[1].1 {
                1_234_567
            } else {
                (l.amount + l.fee_total) / 12 * 7 + 5
            };
            app::repay(
                &app.store,
                &c,
                id,
                pay,
                "2026-11-01",
                &format!("hist-{id:08}"),
            )
            .await
            .unwrap();
        }
    }
    for id in [twins[3].0, twins[3].1] {
        let d = app::request_deferral(&app.store, &c, id, 2, 2, "پیشین")
            .await
            .unwrap();
        app::decide_deferral(&app.store, &c, id, d, true)
            .await
            .unwrap();
    }
    let r = app::bulk_commit(
        &app.store,
        &c,
        &bulk_input(&province, pa),
        "کرونا",
        "twin-bulk-0001",
    )
    .await
    .unwrap()
    .into_value();
    let mut deferred = 0;
    let mut moved = 0;
    for (k, (a, b)) in twins.iter().copied().enumerate() {
        let bulk: Vec<_> = st::deferrals(&app.store, a)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.bulk_id == Some(r.id))
            .collect();
        if k == 7 {
            assert!(bulk.is_empty(), "nothing due in the period: not deferred");
            assert_eq!(rows_of(&app, a).await, rows_of(&app, b).await);
            continue;
        }
        assert_eq!(bulk.len(), 1, "loan {a} deferred once by the bulk");
        let d = &bulk[0];
        assert_eq!((d.months, d.status.as_str()), (3, "approved"));
        let before = rows_of(&app, a).await.len() as i64;
        moved += before - d.from_n + 1;
        deferred += 1;
        let single = app::request_deferral(&app.store, &c, b, d.from_n, 3, "تک")
            .await
            .unwrap();
        app::decide_deferral(&app.store, &c, b, single, true)
            .await
            .unwrap();
        assert_eq!(
            rows_of(&app, a).await,
            rows_of(&app, b).await,
            "loan {a} (bulk) and {b} (single) from instalment {}",
            d.from_n
        );
        let (la, lb) = (
            st::loan(&app.store, a).await.unwrap().unwrap(),
            st::loan(&app.store, b).await.unwrap().unwrap(),
        );
        assert_eq!(la.deferred_months, lb.deferred_months);
        assert_eq!(la.paid_total, lb.paid_total);
    }
    assert_eq!((r.loans, r.instalments), (deferred, moved));
    // The part-paid twin: the first unpaid instalment of the period is where the bulk starts.
    let paid_first = st::deferrals(&app.store, twins[2].0).await.unwrap();
    assert!(
        paid_first
            .iter()
            .any(|d| d.bulk_id == Some(r.id) && d.from_n > 1)
    );
    check_ledger(&app).await;
    app.stop().await;
}

/// A repayment running while a bulk deferral commits: it is neither lost nor deadlocked, and the
/// loan ends with the payment and the deferred schedule together. The repayment holds its loan
/// row (as `record_payment` does first) when the bulk starts; on PostgreSQL the bulk waits for it
/// (the old order, instalments before loans, deadlocked here), on SQLite the write lock orders
/// them. Then a burst of repayments on every loan races a second bulk deferral.
#[tokio::test]
async fn repayment_during_a_bulk_deferral_is_kept_with_the_new_schedule() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let province = county[..2].to_owned();
    let pid = product(&app, "race", "4", 0).await;
    let starts = ["1405/01/31", "1405/03/15", "1405/02/31", "1405/06/30"];
    let mut loans = vec![];
    for (k, start) in starts.iter().enumerate() {
        let nc = woman(&app, &county, 200 + k as u64, true).await;
        loans.push((
            disbursed(&app, pid, &nc, 12_000_000, 12, start).await,
            *start,
        ));
    }
    let target = loans[1].0;
    // Enough to pay into the instalments the bulk moves (from the 7th on).
    let amount = 8_500_000;
    let mut payment = app.store.begin().await.unwrap();
    sqlx::query("UPDATE loans SET paid_total = paid_total WHERE id = $1")
        .bind(target)
        .execute(&mut *payment)
        .await
        .unwrap();
    let store = app.store.clone();
    let province2 = province.clone();
    let bulk = tokio::spawn(async move {
        let p = hamdeli_app::system_principal();
        let c = Caller::new(&p, "test");
        app::bulk_commit(
            &store,
            &c,
            &bulk_input(&province2, pid),
            "کرونا",
            "race-bulk-0001",
        )
        .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    st::record_payment(
        &mut payment,
        target,
        amount,
        "2026-12-01",
        "office",
        None,
        None,
        None,
    )
    .await
    .expect("the repayment goes through");
    // (record_payment writes its journal entry too; the ledger check below needs it.)
    payment.commit().await.unwrap();
    let r = tokio::time::timeout(std::time::Duration::from_secs(60), bulk)
        .await
        .expect("the bulk deferral finishes")
        .unwrap()
        .expect("the bulk deferral commits")
        .into_value();
    assert_eq!(r.loans, loans.len() as i64);
    let check = |id: i64, start: &'static str, paid: i64| {
        let app = &app;
        async move {
            let l = st::loan(&app.store, id).await.unwrap().unwrap();
            assert_eq!(l.paid_total, paid, "loan {id}: payments kept");
            let ds: Vec<Deferral> = st::deferrals(&app.store, id)
                .await
                .unwrap()
                .iter()
                .map(|d| Deferral {
                    from: d.from_n as u32,
                    months: d.months as u32,
                })
                .collect();
            let want = schedule::schedule(
                &Terms {
                    principal: l.amount,
                    months: 12,
                    fee: FeeRate::parse("4").unwrap(),
                    start: schedule::parse_jalali(start).unwrap(),
                    grace_months: 0,
                },
                &ds,
            )
            .unwrap();
            let got = st::instalments(&app.store, id).await.unwrap();
            assert_eq!(got.len(), want.len());
            let mut left = paid;
            for (a, b) in got.iter().zip(&want) {
                assert_eq!(a.due_on, b.due.to_iso().to_days(), "loan {id} n {}", a.n);
                assert_eq!(a.total, b.total);
                // Oldest first, whatever the dates.
                let take = left.min(a.total);
                assert_eq!(a.paid, take, "loan {id} n {}: paid", a.n);
                left -= take;
            }
            assert_eq!(
                l.deferred_months,
                ds.iter().map(|d| d.months as i64).sum::<i64>()
            );
        }
    };
    for (id, start) in &loans {
        check(*id, start, if *id == target { amount } else { 0 }).await;
    }
    // A burst: one repayment on every loan at once with a second bulk deferral of the next
    // period's instalments.
    let mut tasks = vec![];
    for (k, (id, _)) in loans.iter().enumerate() {
        let (store, id) = (app.store.clone(), *id);
        tasks.push(tokio::spawn(async move {
            let p = hamdeli_app::system_principal();
            let c = Caller::new(&p, "test");
            app::repay(
                &store,
                &c,
                id,
                1_000_000,
                "2026-12-02",
                &format!("burst-{k:04}"),
            )
            .await
            .map(|_| ())
        }));
    }
    let store = app.store.clone();
    let second = tokio::spawn(async move {
        let p = hamdeli_app::system_principal();
        let c = Caller::new(&p, "test");
        let mut i = bulk_input(&province, pid);
        i.due_from = "1406/01/01".into();
        i.due_to = "1406/03/31".into();
        app::bulk_commit(&store, &c, &i, "کرونا ۲", "race-bulk-0002")
            .await
            .map(|_| ())
    });
    for t in tasks {
        t.await
            .unwrap()
            .expect("every repayment of the burst is booked");
    }
    second
        .await
        .unwrap()
        .expect("the second bulk deferral commits");
    for (id, start) in &loans {
        let paid = if *id == target { amount } else { 0 } + 1_000_000;
        check(*id, start, paid).await;
    }
    check_ledger(&app).await;
    app.stop().await;
}
