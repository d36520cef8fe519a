//! Provinces and counties: reference data carried in the binary and loaded at migration.

use serde::Serialize;
use sqlx::Row;

use hamdeli_domain::PlaceFilter;

use crate::{Result, Store, StoreError};

const PROVINCES_CSV: &str = include_str!("../../../data/geography/provinces.csv");
const COUNTIES_CSV: &str = include_str!("../../../data/geography/counties.csv");

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Province {
    pub code: String,
    pub iso_3166_2: String,
    pub name_en: String,
    pub name_fa: String,
    pub capital_fa: String,
    pub population_1395: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct County {
    pub code: String,
    pub province_code: String,
    pub name_fa: String,
    pub name_en: String,
}

/// The CSV rows of a reference file; lines starting with `#` name the source.
fn csv_rows(source: &str) -> Result<Vec<csv::StringRecord>> {
    let body: String = source
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| StoreError::ReferenceData(e.to_string()))
}

fn field(rec: &csv::StringRecord, i: usize) -> Result<String> {
    rec.get(i)
        .map(|s| s.trim().to_owned())
        .ok_or_else(|| StoreError::ReferenceData(format!("missing column {i} in {rec:?}")))
}

pub fn reference_provinces() -> Result<Vec<Province>> {
    csv_rows(PROVINCES_CSV)?
        .iter()
        .map(|r| {
            Ok(Province {
                code: field(r, 0)?,
                iso_3166_2: field(r, 1)?,
                name_en: field(r, 2)?,
                name_fa: field(r, 3)?,
                capital_fa: field(r, 4)?,
                population_1395: field(r, 5)?
                    .parse()
                    .map_err(|e| StoreError::ReferenceData(format!("population: {e}")))?,
            })
        })
        .collect()
}

pub fn reference_counties() -> Result<Vec<County>> {
    csv_rows(COUNTIES_CSV)?
        .iter()
        .map(|r| {
            Ok(County {
                province_code: field(r, 0)?,
                code: field(r, 1)?,
                name_fa: field(r, 2)?,
                name_en: field(r, 3)?,
            })
        })
        .collect()
}

/// Inserts the reference provinces and counties that are not there yet, in one transaction.
pub async fn load_reference_data(store: &Store) -> Result<()> {
    let have: i64 = sqlx::query("SELECT COUNT(*) FROM counties")
        .fetch_one(store.pool())
        .await?
        .get(0);
    let counties = reference_counties()?;
    if have as usize >= counties.len() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    for p in reference_provinces()? {
        sqlx::query(
            "INSERT INTO provinces (code, iso_3166_2, name_en, name_fa, capital_fa, population_1395) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING",
        )
        .bind(p.code)
        .bind(p.iso_3166_2)
        .bind(p.name_en)
        .bind(p.name_fa)
        .bind(p.capital_fa)
        .bind(p.population_1395)
        .execute(&mut *tx)
        .await?;
    }
    for c in counties {
        sqlx::query(
            "INSERT INTO counties (code, province_code, name_fa, name_en) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(c.code)
        .bind(c.province_code)
        .bind(c.name_fa)
        .bind(c.name_en)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn province_from_row(r: &sqlx::any::AnyRow) -> Province {
    Province {
        code: r.get("code"),
        iso_3166_2: r.get("iso_3166_2"),
        name_en: r.get("name_en"),
        name_fa: r.get("name_fa"),
        capital_fa: r.get("capital_fa"),
        population_1395: r.get("population_1395"),
    }
}

fn county_from_row(r: &sqlx::any::AnyRow) -> County {
    County {
        code: r.get("code"),
        province_code: r.get("province_code"),
        name_fa: r.get("name_fa"),
        name_en: r.get("name_en"),
    }
}

/// The provinces a principal with this filter may open.
pub async fn provinces(store: &Store, filter: &PlaceFilter) -> Result<Vec<Province>> {
    let base =
        "SELECT code, iso_3166_2, name_en, name_fa, capital_fa, population_1395 FROM provinces";
    let rows = match filter {
        PlaceFilter::All => sqlx::query(base).fetch_all(store.pool()).await?,
        PlaceFilter::Province(p) => {
            sqlx::query(
                "SELECT code, iso_3166_2, name_en, name_fa, capital_fa, population_1395 \
                 FROM provinces WHERE code = $1",
            )
            .bind(p)
            .fetch_all(store.pool())
            .await?
        }
        PlaceFilter::County(c) => {
            sqlx::query(
                "SELECT code, iso_3166_2, name_en, name_fa, capital_fa, population_1395 \
                 FROM provinces WHERE code = (SELECT province_code FROM counties WHERE code = $1)",
            )
            .bind(c)
            .fetch_all(store.pool())
            .await?
        }
        PlaceFilter::Organisation(_) | PlaceFilter::Nothing => vec![],
    };
    let mut out: Vec<Province> = rows.iter().map(province_from_row).collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// Every province, for pick lists (names of places are not personal data).
pub async fn all_provinces(store: &Store) -> Result<Vec<Province>> {
    provinces(store, &PlaceFilter::All).await
}

pub async fn province(store: &Store, code: &str) -> Result<Option<Province>> {
    let row = sqlx::query(
        "SELECT code, iso_3166_2, name_en, name_fa, capital_fa, population_1395 \
         FROM provinces WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(province_from_row))
}

pub async fn county(store: &Store, code: &str) -> Result<Option<County>> {
    let row =
        sqlx::query("SELECT code, province_code, name_fa, name_en FROM counties WHERE code = $1")
            .bind(code)
            .fetch_optional(store.pool())
            .await?;
    Ok(row.as_ref().map(county_from_row))
}

/// The counties of a province the filter allows (a county expert sees only the own county).
pub async fn counties_of(
    store: &Store,
    province: &str,
    filter: &PlaceFilter,
) -> Result<Vec<County>> {
    let rows = sqlx::query(
        "SELECT code, province_code, name_fa, name_en FROM counties \
         WHERE province_code = $1 ORDER BY code",
    )
    .bind(province)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(county_from_row)
        .filter(|c| match filter {
            PlaceFilter::All => true,
            PlaceFilter::Province(p) => *p == c.province_code,
            PlaceFilter::County(code) => *code == c.code,
            PlaceFilter::Organisation(_) | PlaceFilter::Nothing => false,
        })
        .collect())
}

/// Every county, for pick lists.
pub async fn all_counties(store: &Store) -> Result<Vec<County>> {
    let rows = sqlx::query(
        "SELECT code, province_code, name_fa, name_en FROM counties ORDER BY province_code, code",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(county_from_row).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_data_is_complete() {
        let provinces = reference_provinces().unwrap();
        assert_eq!(provinces.len(), 31);
        let population: i64 = provinces.iter().map(|p| p.population_1395).sum();
        assert_eq!(population, 79_926_270);
        let counties = reference_counties().unwrap();
        assert!(counties.len() > 350, "{}", counties.len());
        for p in &provinces {
            assert!(
                counties.iter().any(|c| c.province_code == p.code),
                "province {} has no county",
                p.code
            );
        }
        let mut codes: Vec<_> = counties.iter().map(|c| &c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), counties.len(), "duplicate county codes");
    }
}
