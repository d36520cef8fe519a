//! Iran's provinces and counties from the workspace's reference geography
//! (`data/geography/*.csv`), with the weights households are spread by.

use hamdeli_text::name_key;

const PROVINCES_CSV: &str = include_str!("../../../data/geography/provinces.csv");
const COUNTIES_CSV: &str = include_str!("../../../data/geography/counties.csv");

/// A province and the counties under it.
#[derive(Debug, Clone)]
pub struct Province {
    /// Two-digit code (`23` = Tehran).
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    /// 1395 (2016) census population: households are spread over provinces in this proportion.
    pub population: u64,
    /// Indices into [`Geography::counties`].
    pub counties: Vec<usize>,
    /// Index into [`Geography::counties`] of the county of the province capital, if found.
    pub capital_county: Option<usize>,
}

/// A county (شهرستان).
#[derive(Debug, Clone)]
pub struct County {
    /// Four-digit code (`2301` = Tehran).
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    /// Index into [`Geography::provinces`].
    pub province: usize,
}

/// The reference geography.
#[derive(Debug, Clone)]
pub struct Geography {
    pub provinces: Vec<Province>,
    pub counties: Vec<County>,
}

fn rows(source: &str) -> Vec<csv::StringRecord> {
    let body: String = source
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .filter_map(Result::ok)
        .collect()
}

fn cell(r: &csv::StringRecord, i: usize) -> String {
    r.get(i).unwrap_or("").trim().to_owned()
}

impl Geography {
    /// The geography compiled into the crate.
    pub fn load() -> Geography {
        let mut provinces: Vec<Province> = Vec::new();
        let mut capitals = Vec::new();
        for r in rows(PROVINCES_CSV) {
            provinces.push(Province {
                code: cell(&r, 0),
                name_en: cell(&r, 2),
                name_fa: cell(&r, 3),
                population: cell(&r, 5).parse().unwrap_or(1_000_000),
                counties: Vec::new(),
                capital_county: None,
            });
            let capital = cell(&r, 4);
            // Yasuj is the seat of Boyer-Ahmad county; other capitals name their county.
            let capital = if capital == "یاسوج" {
                "بویراحمد".to_owned()
            } else {
                capital
            };
            capitals.push(name_key(&capital));
        }
        let mut counties = Vec::new();
        for r in rows(COUNTIES_CSV) {
            let province_code = cell(&r, 0);
            let Some(p) = provinces.iter().position(|p| p.code == province_code) else {
                continue;
            };
            let name_fa = cell(&r, 2);
            let index = counties.len();
            if provinces[p].capital_county.is_none() && name_key(&name_fa) == capitals[p] {
                provinces[p].capital_county = Some(index);
            }
            provinces[p].counties.push(index);
            counties.push(County {
                code: cell(&r, 1),
                name_fa,
                name_en: cell(&r, 3),
                province: p,
            });
        }
        provinces.retain(|p| !p.counties.is_empty());
        Geography {
            provinces,
            counties,
        }
        .reindexed()
    }

    /// Re-points counties at their province after provinces without counties were dropped.
    fn reindexed(mut self) -> Geography {
        for (pi, p) in self.provinces.iter().enumerate() {
            for &c in &p.counties {
                self.counties[c].province = pi;
            }
        }
        self
    }

    /// The county with this code (`2301`) or Persian name (matched on the normalised key) or
    /// English name (case-insensitive).
    pub fn find_county(&self, name_or_code: &str) -> Option<usize> {
        let s = name_or_code.trim();
        if let Some(i) = self.counties.iter().position(|c| c.code == s) {
            return Some(i);
        }
        let key = name_key(s);
        self.counties
            .iter()
            .position(|c| name_key(&c.name_fa) == key || c.name_en.eq_ignore_ascii_case(s))
    }

    /// County weights within a province: the capital's county holds about as many households
    /// as all the others together (a rough stand-in for county populations, which the reference
    /// files do not carry).
    pub fn county_weights(&self, province: usize) -> Vec<(usize, u64)> {
        let p = &self.provinces[province];
        let others = (p.counties.len() as u64).saturating_sub(1).max(1);
        p.counties
            .iter()
            .map(|&c| {
                let w = if Some(c) == p.capital_county {
                    others * 10
                } else {
                    10
                };
                (c, w)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_31_provinces_with_counties_and_capitals() {
        let g = Geography::load();
        assert_eq!(g.provinces.len(), 31);
        assert!(g.counties.len() > 400, "{}", g.counties.len());
        for p in &g.provinces {
            assert!(p.population > 100_000, "{}", p.name_en);
            assert!(p.capital_county.is_some(), "capital of {}", p.name_en);
        }
        let tehran = g.find_county("تهران").unwrap();
        assert_eq!(g.counties[tehran].code, "2301");
        assert_eq!(g.find_county("2301"), Some(tehran));
        assert_eq!(g.find_county("Tehran"), Some(tehran));
        assert_eq!(g.provinces[g.counties[tehran].province].code, "23");
    }
}
