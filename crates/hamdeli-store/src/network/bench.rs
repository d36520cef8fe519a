//! Synthetic volunteers, centres and open cases in bulk, for `hamdeli bench network` (a fresh
//! database: it adds rows flagged as demo data). Multi-row INSERTs in one transaction.

use sqlx::Row;

use hamdeli_domain::network::dates::{iso, parse_iso};
use hamdeli_domain::network::vocab::{LANGUAGES, SPECIALTIES};

use crate::{Result, Store, StoreError, now_millis, values_placeholders};

/// A small deterministic mix, for choosing values without a random generator.
fn mix(i: u64, salt: u64) -> u64 {
    let mut x = i ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// Inserts `volunteers` volunteers over every county (a fifth remote, most verified, licences
/// expiring from two months ago to two years ahead), one centre per county of a sample, and
/// `cases` open cases; returns the ids of the open cases.
pub async fn seed(store: &Store, volunteers: usize, cases: usize, today: &str) -> Result<Vec<i64>> {
    let counties: Vec<(String, String)> =
        sqlx::query("SELECT code, province_code FROM counties ORDER BY code")
            .fetch_all(store.pool())
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    if counties.is_empty() {
        return Err(StoreError::Invalid("no counties"));
    }
    let today_days = parse_iso(today).ok_or(StoreError::Invalid("today"))?;
    let now = now_millis();
    let engine = store.engine();
    let first_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM network_volunteers")
        .fetch_one(store.pool())
        .await?
        .get(0);
    let mut tx = store.begin().await?;
    const CHUNK: usize = 500;
    let mut id = first_id;
    for start in (0..volunteers).step_by(CHUNK) {
        let n = CHUNK.min(volunteers - start);
        let sql = format!(
            "INSERT INTO network_volunteers (id, name, mobile, gender, specialty, licence_number, \
             licence_issuer, licence_expires_on, languages, remote, province_code, weekly_hours, \
             days, status, open_cases, is_demo, created_at) VALUES {}",
            values_placeholders(engine, n, 17)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let mut links: Vec<(i64, String)> = Vec::with_capacity(n * 2);
        for k in 0..n {
            id += 1;
            let i = (start + k) as u64;
            let (county, province) = &counties[(mix(i, 1) % counties.len() as u64) as usize];
            let remote = mix(i, 2).is_multiple_of(5);
            let status = if mix(i, 3).is_multiple_of(10) {
                "pending"
            } else {
                "verified"
            };
            let expires = iso(today_days - 60 + (mix(i, 4) % 760) as i64);
            let other = LANGUAGES[(mix(i, 5) % LANGUAGES.len() as u64) as usize];
            let languages = if other == "fa" {
                ",fa,".to_owned()
            } else {
                format!(",fa,{other},")
            };
            q = q
                .bind(id)
                .bind(format!("داوطلب آزمایشی {i}"))
                .bind(format!("0912{:07}", i % 10_000_000))
                .bind(if mix(i, 6) % 10 < 7 { "f" } else { "m" })
                .bind(SPECIALTIES[(mix(i, 7) % 4) as usize])
                .bind(format!("L-{i}"))
                .bind("سازمان نظام روان‌شناسی")
                .bind(expires)
                .bind(languages)
                .bind(i64::from(remote))
                .bind(province.clone())
                .bind((mix(i, 8) % 20) as i64)
                .bind(127i64)
                .bind(status)
                .bind((mix(i, 9) % 6) as i64)
                .bind(1i64)
                .bind(now);
            links.push((id, county.clone()));
            // A second county of the same province for a third of them.
            if mix(i, 10).is_multiple_of(3) {
                let same: Vec<&(String, String)> =
                    counties.iter().filter(|(_, p)| p == province).collect();
                let (c2, _) = same[(mix(i, 11) % same.len() as u64) as usize];
                if c2 != county {
                    links.push((id, c2.clone()));
                }
            }
        }
        q.execute(&mut *tx).await?;
        let sql = format!(
            "INSERT INTO network_volunteer_counties (volunteer_id, county_code) VALUES {}",
            values_placeholders(engine, links.len(), 2)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (v, c) in links {
            q = q.bind(v).bind(c);
        }
        q.execute(&mut *tx).await?;
    }
    // One centre per county of a sample of counties, then the open cases over them.
    let mut centres: Vec<i64> = Vec::new();
    for (k, (county, province)) in counties.iter().enumerate().step_by(2) {
        let row = sqlx::query(
            "INSERT INTO network_centres (name, province_code, county_code, is_demo, created_at) \
             VALUES ($1, $2, $3, 1, $4) RETURNING id",
        )
        .bind(format!("مرکز آزمایشی {k}-{first_id}"))
        .bind(province.clone())
        .bind(county.clone())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        centres.push(row.get(0));
    }
    let mut ids = Vec::with_capacity(cases);
    for c in 0..cases {
        let i = c as u64;
        let row = sqlx::query(
            "INSERT INTO network_cases (centre_id, specialty, language, gender_preference, \
             urgency, client_name, client_phone, details, state, is_demo, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'مراجع آزمایشی', '', '', 'open', 1, $6) RETURNING id",
        )
        .bind(centres[(mix(i, 20) % centres.len() as u64) as usize])
        .bind(SPECIALTIES[(mix(i, 21) % 4) as usize])
        .bind(LANGUAGES[(mix(i, 22) % 3) as usize])
        .bind(match mix(i, 23) % 3 {
            0 => Some("f"),
            1 => None,
            _ => Some("m"),
        })
        .bind(["low", "normal", "high", "critical"][(mix(i, 24) % 4) as usize])
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        ids.push(row.get(0));
    }
    tx.commit().await?;
    if engine == crate::Engine::Postgres {
        sqlx::query("ANALYZE network_volunteers")
            .execute(store.pool())
            .await?;
        sqlx::query("ANALYZE network_volunteer_counties")
            .execute(store.pool())
            .await?;
        // The id column was given explicitly: move its sequence past the rows.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('network_volunteers', 'id'), \
             (SELECT MAX(id) FROM network_volunteers))",
        )
        .execute(store.pool())
        .await?;
    } else {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    Ok(ids)
}
