//! The demo data of capability network, made through its use cases as a user would (never by
//! writing tables directly): capable women with each consent, volunteers (some with licences
//! about to expire, one suspended by the licence sweep), centres with cases in each state, and
//! NGOs in each lifecycle state with their training. Idempotent: what is there is skipped.

use anyhow::{Context, Result};

use hamdeli_app::Caller;
use hamdeli_app::network::cases::{self, CaseInput};
use hamdeli_app::network::ngos::{self, LicenceInput, TrainingInput};
use hamdeli_app::network::volunteers::{self, VolunteerInput};
use hamdeli_app::network::women::{self, WomanInput};
use hamdeli_app::organisations::{self, OrganisationInput};
use hamdeli_domain::network::consent::Consent;
use hamdeli_domain::network::dates::plus_days;
use hamdeli_domain::{Principal, Role, Scope};
use hamdeli_store::network::cases as case_store;
use hamdeli_store::users::{self, NewUser};
use hamdeli_store::{Store, organisations as org_store};

use crate::demo::DEMO_PASSWORD;

async fn principal(store: &Store, username: &str) -> Result<Option<Principal>> {
    let Some(id) = users::id_by_username(store, username).await? else {
        return Ok(None);
    };
    Ok(users::by_id(store, id).await?.map(|u| u.principal()))
}

fn day(offset: i64) -> String {
    plus_days(&hamdeli_app::network::today(), offset).unwrap_or_default()
}

struct DemoVolunteer {
    username: &'static str,
    name: &'static str,
    gender: &'static str,
    specialty: &'static str,
    languages: &'static [&'static str],
    remote: bool,
    hours: i64,
    /// Days from today to the licence's expiry.
    expires_in: i64,
}

const VOLUNTEERS: [DemoVolunteer; 7] = [
    DemoVolunteer {
        username: "volunteer",
        name: "مریم احمدی (نمایشی)",
        gender: "f",
        specialty: "counsellor",
        languages: &["fa", "az"],
        remote: true,
        hours: 8,
        expires_in: 400,
    },
    DemoVolunteer {
        username: "volunteer.sw",
        name: "زهرا کریمی (نمایشی)",
        gender: "f",
        specialty: "social_worker",
        languages: &["fa"],
        remote: false,
        hours: 12,
        expires_in: 12,
    },
    DemoVolunteer {
        username: "volunteer.psy",
        name: "فاطمه رضایی (نمایشی)",
        gender: "f",
        specialty: "psychologist",
        languages: &["fa", "ku"],
        remote: true,
        hours: 6,
        expires_in: 25,
    },
    DemoVolunteer {
        username: "volunteer.psy2",
        name: "علی محمدی (نمایشی)",
        gender: "m",
        specialty: "psychologist",
        languages: &["fa", "en"],
        remote: false,
        hours: 10,
        expires_in: 300,
    },
    DemoVolunteer {
        username: "volunteer.soc",
        name: "نرگس موسوی (نمایشی)",
        gender: "f",
        specialty: "clinical_sociologist",
        languages: &["fa", "ar"],
        remote: true,
        hours: 4,
        expires_in: 500,
    },
    DemoVolunteer {
        username: "volunteer.c2",
        name: "لیلا حسینی (نمایشی)",
        gender: "f",
        specialty: "counsellor",
        languages: &["fa"],
        remote: false,
        hours: 10,
        expires_in: 200,
    },
    // Her licence ends today: the demo runs tomorrow's sweep, which suspends her and tells the
    // office (a notice on the network home).
    DemoVolunteer {
        username: "volunteer.exp",
        name: "سمیه جعفری (نمایشی)",
        gender: "f",
        specialty: "counsellor",
        languages: &["fa", "lur"],
        remote: true,
        hours: 5,
        expires_in: 0,
    },
];

const WOMEN: [(&str, &str, &str, &str, Consent, bool); 12] = [
    (
        "شهلا نادری (نمایشی)",
        "handicrafts",
        "قالی‌بافی، گلیم‌بافی",
        "نشان ملی مرغوبیت ۱۳۹۸",
        Consent::Public,
        true,
    ),
    (
        "پروین کاظمی (نمایشی)",
        "agriculture",
        "گلخانه، پرورش قارچ",
        "راه‌اندازی تعاونی روستایی",
        Consent::Public,
        true,
    ),
    (
        "مهسا رحیمی (نمایشی)",
        "technology",
        "برنامه‌نویسی وب، آموزش فناوری",
        "",
        Consent::AllOffices,
        true,
    ),
    (
        "رقیه صالحی (نمایشی)",
        "handicrafts",
        "خیاطی، گلدوزی",
        "",
        Consent::Office,
        true,
    ),
    (
        "سارا امینی (نمایشی)",
        "education",
        "آموزش سواد، مشاورهٔ تحصیلی",
        "معلم نمونهٔ استان",
        Consent::Public,
        true,
    ),
    (
        "طاهره یزدانی (نمایشی)",
        "business",
        "بازاریابی، فروش اینترنتی",
        "",
        Consent::AllOffices,
        true,
    ),
    (
        "زینب عباسی (نمایشی)",
        "health",
        "بهورزی، تغذیه",
        "",
        Consent::Office,
        false,
    ),
    (
        "منیژه قاسمی (نمایشی)",
        "arts",
        "نقاشی، خوشنویسی",
        "نمایشگاه انفرادی",
        Consent::Public,
        false,
    ),
    (
        "اعظم نوری (نمایشی)",
        "social",
        "مددکاری، توانمندسازی زنان",
        "",
        Consent::AllOffices,
        false,
    ),
    (
        "کبری شریفی (نمایشی)",
        "agriculture",
        "زعفران، گیاهان دارویی",
        "",
        Consent::Public,
        false,
    ),
    (
        "هدی مرادی (نمایشی)",
        "handicrafts",
        "سفال، میناکاری",
        "",
        Consent::Office,
        false,
    ),
    (
        "نازنین بهرامی (نمایشی)",
        "technology",
        "طراحی گرافیک",
        "",
        Consent::Public,
        false,
    ),
];

/// Seeds capability network's demo data once; returns a line for the console.
pub async fn seed(store: &Store) -> Result<String> {
    let (Some(admin), Some(tehran_officer), Some(tehran_expert), Some(isfahan_officer)) = (
        principal(store, "admin").await?,
        principal(store, "tehran.officer").await?,
        principal(store, "tehran.expert").await?,
        principal(store, "isfahan.officer").await?,
    ) else {
        tracing::warn!("network demo: the demo logins are missing");
        return Ok(String::new());
    };
    let isfahan_expert = principal(store, "isfahan.expert").await?;
    let (Some(tehran), Some(tehran_county)) = (
        tehran_expert.scope.province().map(str::to_owned),
        tehran_expert.scope.county().map(str::to_owned),
    ) else {
        tracing::warn!("network demo: tehran.expert has no county");
        return Ok(String::new());
    };
    let isfahan_county = isfahan_expert
        .as_ref()
        .and_then(|p| p.scope.county().map(str::to_owned));
    let addr = "demo";

    // Capable women: entered by the county experts of Tehran and Isfahan.
    let mut women_made = 0;
    for (k, (name, field, skills, achievements, consent, in_tehran)) in WOMEN.iter().enumerate() {
        let (who, county) = match (in_tehran, &isfahan_expert, &isfahan_county) {
            (true, _, _) => (&tehran_expert, tehran_county.clone()),
            (false, Some(p), Some(c)) => (p, c.clone()),
            _ => continue,
        };
        let input = WomanInput {
            name: (*name).into(),
            mobile: format!("0935{:07}", 1_000_000 + k),
            field: (*field).into(),
            education: if k % 2 == 0 {
                "کارشناسی"
            } else {
                "دیپلم"
            }
            .into(),
            achievements: (*achievements).into(),
            skills: (*skills).into(),
            languages: if k % 3 == 0 {
                vec!["fa".into(), "az".into()]
            } else {
                vec!["fa".into()]
            },
            county,
            contact: "از طریق دفتر شهرستان".into(),
        };
        if women::enter_demo(store, &Caller::new(who, addr), &input, *consent)
            .await
            .with_context(|| format!("capable woman {name}"))?
            .is_some()
        {
            women_made += 1;
        }
    }

    // Volunteers: accounts (as the demo makes every demo login), their profiles through the
    // sign-up use case, the provincial office's check.
    let mut volunteer_ids = Vec::new();
    for v in &VOLUNTEERS {
        if users::id_by_username(store, v.username).await?.is_none() {
            let mut tx = store.begin().await?;
            users::create(
                &mut tx,
                NewUser {
                    username: v.username.into(),
                    display_name: v.name.into(),
                    password: DEMO_PASSWORD.into(),
                    role: Role::Volunteer,
                    scope: Scope::Own,
                    locale: "fa".into(),
                    is_demo: true,
                },
            )
            .await?;
            tx.commit().await?;
        }
        let Some(me) = principal(store, v.username).await? else {
            continue;
        };
        let caller = Caller::new(&me, addr);
        if let Some(existing) = volunteers::mine(store, &caller).await? {
            volunteer_ids.push(existing.id);
            continue;
        }
        let id = volunteers::save_for_user(
            store,
            &caller,
            &VolunteerInput {
                name: v.name.into(),
                mobile: format!("0936{:07}", 1_000_000 + volunteer_ids.len()),
                gender: v.gender.into(),
                specialty: v.specialty.into(),
                licence_number: format!("{}-{}", 14_000 + volunteer_ids.len(), v.specialty.len()),
                licence_issuer: if v.specialty == "social_worker" {
                    "سازمان بهزیستی"
                } else {
                    "سازمان نظام روان‌شناسی و مشاوره"
                }
                .into(),
                licence_expires_on: day(v.expires_in),
                languages: v.languages.iter().map(|s| (*s).to_owned()).collect(),
                remote: v.remote,
                province: tehran.clone(),
                counties: vec![tehran_county.clone()],
                weekly_hours: v.hours.to_string(),
                days: vec![0, 1, 2, 3],
            },
            true,
        )
        .await
        .with_context(|| format!("volunteer {}", v.username))?;
        // One stays pending for the office to check.
        if v.username != "volunteer.soc" {
            volunteers::check(store, &Caller::new(&tehran_officer, addr), id, "verify", "").await?;
        }
        volunteer_ids.push(id);
    }
    // Tomorrow's sweep: the licence that ends today is suspended, with a notice to the office.
    let swept = volunteers::sweep(store, &day(1)).await?;

    // Centres and cases.
    let centre_name = "اورژانس اجتماعی تهران (نمایشی)";
    let centre = match case_store::centre_by_name(store, centre_name).await? {
        Some(id) => id,
        None => {
            cases::create_centre_flagged(
                store,
                &Caller::new(&tehran_officer, addr),
                centre_name,
                &tehran_county,
                true,
            )
            .await?
        }
    };
    if let Some(c) = &isfahan_county
        && case_store::centre_by_name(store, "اورژانس اجتماعی اصفهان (نمایشی)")
            .await?
            .is_none()
    {
        cases::create_centre_flagged(
            store,
            &Caller::new(&isfahan_officer, addr),
            "اورژانس اجتماعی اصفهان (نمایشی)",
            c,
            true,
        )
        .await?;
    }
    let mut cases_made = 0;
    if case_store::of_centre(store, centre).await?.is_empty() {
        let staff = Caller::new(&tehran_expert, addr);
        let case =
            |specialty: &str, language: &str, gender: &str, urgency: &str, name: &str| CaseInput {
                specialty: specialty.into(),
                language: language.into(),
                gender_preference: gender.into(),
                urgency: urgency.into(),
                client_name: name.into(),
                client_phone: "09121234567".into(),
                details: "مراجعه پس از تماس با خط ۱۲۳ (داده‌های ساختگی)".into(),
            };
        let demo_volunteer = principal(store, "volunteer").await?;
        // 1: accepted by the demo volunteer, two sessions logged.
        let c1 = cases::open_case_flagged(
            store,
            &staff,
            centre,
            &case("counsellor", "az", "f", "high", "مراجع نمایشی ۱"),
            true,
        )
        .await?;
        // 2: assigned, waiting for her answer.
        let c2 = cases::open_case_flagged(
            store,
            &staff,
            centre,
            &case("counsellor", "fa", "", "normal", "مراجع نمایشی ۲"),
            true,
        )
        .await?;
        // 3: closed with an outcome (sessions by the psychologist).
        let c3 = cases::open_case_flagged(
            store,
            &staff,
            centre,
            &case("psychologist", "fa", "", "critical", "مراجع نمایشی ۳"),
            true,
        )
        .await?;
        // 4 and 5: open (one declined by the demo volunteer first).
        let c4 = cases::open_case_flagged(
            store,
            &staff,
            centre,
            &case("counsellor", "fa", "f", "normal", "مراجع نمایشی ۴"),
            true,
        )
        .await?;
        cases::open_case_flagged(
            store,
            &staff,
            centre,
            &case("social_worker", "fa", "", "low", "مراجع نمایشی ۵"),
            true,
        )
        .await?;
        cases_made = 5;
        if let Some(me) = &demo_volunteer {
            let her = Caller::new(me, addr);
            if let Some(v) = volunteers::mine(store, &her).await? {
                cases::assign(store, &staff, c1, v.id).await?;
                cases::respond(store, &her, c1, true).await?;
                cases::log_session(store, &her, c1, &day(-3), "60", "جلسهٔ نخست").await?;
                cases::log_session(store, &her, c1, &day(-1), "45", "پیگیری").await?;
                cases::assign(store, &staff, c2, v.id).await?;
                cases::assign(store, &staff, c4, v.id).await?;
                cases::respond(store, &her, c4, false).await?;
            }
        }
        if let Some(psy) = principal(store, "volunteer.psy2").await? {
            let him = Caller::new(&psy, addr);
            if let Some(v) = volunteers::mine(store, &him).await? {
                cases::assign(store, &staff, c3, v.id).await?;
                cases::respond(store, &him, c3, true).await?;
                cases::log_session(store, &him, c3, &day(-2), "90", "").await?;
                cases::close(store, &staff, c3, "resolved").await?;
            }
        }
    }

    // NGOs in each lifecycle state, with training.
    let admin_c = Caller::new(&admin, addr);
    let officer_c = Caller::new(&tehran_officer, addr);
    let ngo_names = [
        ("سمن مهرآفرین نمایشی", "Mehrafarin NGO (demo)", "active"),
        ("سمن همیاران نمایشی", "Hamyaran NGO (demo)", "verified"),
        ("سمن نوآوران نمایشی", "Noavaran NGO (demo)", "applied"),
        ("سمن امید فردا نمایشی", "Omid NGO (demo)", "suspended"),
        ("سمن روشنا نمایشی", "Roshana NGO (demo)", "expired"),
    ];
    let mut ngos_made = 0;
    for (k, (fa, en, target)) in ngo_names.iter().enumerate() {
        let id = match org_store::id_by_name(store, fa).await? {
            Some(id) => id,
            None => {
                organisations::create(
                    store,
                    &admin_c,
                    OrganisationInput {
                        name_fa: (*fa).into(),
                        name_en: (*en).into(),
                        kind: "ngo".into(),
                        province: Some(tehran.clone()),
                    },
                )
                .await?
            }
        };
        let existing = hamdeli_store::network::ngos::get(store, id).await?;
        if existing.is_some_and(|n| n.licence.is_some()) {
            continue;
        }
        ngos::put_licence(
            store,
            &officer_c,
            id,
            &LicenceInput {
                licence_issuer: "وزارت کشور".into(),
                licence_number: format!("NGO-{}", 9_100 + k),
                licence_expires_on: day(if *target == "expired" {
                    0
                } else {
                    365 + 30 * k as i64
                }),
                fields: "توانمندسازی زنان سرپرست خانوار، آموزش مهارت".into(),
                county: tehran_county.clone(),
                board: "رئیس: خانم الف (نمایشی)\nدبیر: خانم ب (نمایشی)".into(),
                capacity: (200 * (k + 1)).to_string(),
            },
        )
        .await?;
        let steps: &[&str] = match *target {
            "applied" => &[],
            "verified" => &["verified"],
            "active" | "expired" => &["verified", "active"],
            _ => &["verified", "active", "suspended"],
        };
        for s in steps {
            ngos::step(store, &officer_c, id, s, "").await?;
        }
        for (t, title) in ["مدیریت پروژه‌های اجتماعی", "حمایت روانی-اجتماعی در بحران"]
            .iter()
            .enumerate()
            .take(if *target == "applied" { 0 } else { 2 })
        {
            ngos::add_training(
                store,
                &officer_c,
                id,
                &TrainingInput {
                    title: (*title).into(),
                    held_on: day(-30 * (t as i64 + 1) - k as i64),
                    hours: (8 * (t + 1)).to_string(),
                    certificate: format!("C-{k}{t}"),
                },
            )
            .await?;
        }
        ngos_made += 1;
    }
    // The demo's own NGO (Isfahan) gets an active licence, so its partner access stays open.
    if let Some(tavana) = org_store::id_by_name(store, "سمن توانا نمایشی").await?
        && hamdeli_store::network::ngos::get(store, tavana)
            .await?
            .is_some_and(|n| n.licence.is_none())
    {
        let isf = Caller::new(&isfahan_officer, addr);
        ngos::put_licence(
            store,
            &isf,
            tavana,
            &LicenceInput {
                licence_issuer: "استانداری اصفهان".into(),
                licence_number: "NGO-1021".into(),
                licence_expires_on: day(500),
                fields: "آموزش و اشتغال زنان".into(),
                county: isfahan_county.clone().unwrap_or_default(),
                board: "رئیس: خانم ج (نمایشی)".into(),
                capacity: "300".into(),
            },
        )
        .await?;
        ngos::step(store, &isf, tavana, "verified", "").await?;
        ngos::step(store, &isf, tavana, "active", "").await?;
        ngos_made += 1;
    }
    let swept_ngos = volunteers::sweep(store, &day(1)).await?;
    Ok(format!(
        "network: {women_made} capable women, {} volunteers ({} suspended by the licence sweep), {cases_made} cases, {ngos_made} NGOs with licences ({} expired by the sweep)",
        volunteer_ids.len(),
        swept.volunteers_suspended,
        swept_ngos.ngos_expired
    ))
}
