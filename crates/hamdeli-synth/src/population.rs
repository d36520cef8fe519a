//! Households and the people in them.

use std::collections::HashSet;

use hamdeli_text::check_digit_for;

use crate::geo::Geography;
use crate::names::{COMPOUND_FEMALE, COMPOUND_MALE, FEMALE, MALE, STREETS, SURNAMES, VILLAGES};
use crate::rng::{Cumulative, Rng};
use crate::{
    FemaleHeadReason, Gender, Household, JDate, Person, REFERENCE_DATE, Relation, SynthOptions,
    Zone,
};

/// Skew of first-name draws (a few names are very common) and of surname draws.
const FIRST_SKEW: f64 = 2.0;
const SURNAME_SKEW: f64 = 1.3;

/// Surnames common among sayyids: their bearers are more often sayyid.
const SAYYID_SURNAMES: [&str; 8] = [
    "حسینی",
    "موسوی",
    "هاشمی",
    "طباطبایی",
    "رضوی",
    "تقوی",
    "نقوی",
    "فاطمی",
];

/// Telephone area codes of the provinces, by province code.
const AREA_CODES: [(&str, &str); 31] = [
    ("00", "086"),
    ("01", "013"),
    ("02", "011"),
    ("03", "041"),
    ("04", "044"),
    ("05", "083"),
    ("06", "061"),
    ("07", "071"),
    ("08", "034"),
    ("09", "051"),
    ("10", "031"),
    ("11", "054"),
    ("12", "087"),
    ("13", "081"),
    ("14", "038"),
    ("15", "066"),
    ("16", "084"),
    ("17", "074"),
    ("18", "077"),
    ("19", "024"),
    ("20", "023"),
    ("21", "035"),
    ("22", "076"),
    ("23", "021"),
    ("24", "045"),
    ("25", "025"),
    ("26", "028"),
    ("27", "017"),
    ("28", "058"),
    ("29", "056"),
    ("30", "026"),
];

/// Mobile operator prefixes after `09`.
const MOBILE_PREFIXES: [&str; 16] = [
    "12", "13", "14", "15", "16", "17", "18", "19", "10", "01", "02", "03", "30", "35", "36", "90",
];

/// A person to add, before the identifiers are drawn.
struct Spec<'a> {
    relation: Relation,
    gender: Gender,
    first: &'a str,
    last: &'a str,
    father: &'a str,
    birth: JDate,
    sayyid: bool,
}

struct Gen<'a> {
    rng: Rng,
    opts: &'a SynthOptions,
    geo: &'a Geography,
    used_codes: HashSet<u32>,
    households: Vec<Household>,
    persons: Vec<Person>,
    /// Index into `geo.provinces` of Tehran (its people's codes start with `00`).
    tehran: Option<usize>,
}

pub(crate) fn generate(opts: &SynthOptions, geo: &Geography) -> (Vec<Household>, Vec<Person>) {
    let provinces = Cumulative::new(
        geo.provinces
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.population as f64)),
    );
    let counties: Vec<Cumulative<usize>> = (0..geo.provinces.len())
        .map(|p| {
            Cumulative::new(
                geo.county_weights(p)
                    .into_iter()
                    .map(|(c, w)| (c, w as f64)),
            )
        })
        .collect();
    let mut g = Gen {
        rng: Rng::new(opts.seed, "population"),
        opts,
        geo,
        used_codes: HashSet::with_capacity(opts.people * 2),
        households: Vec::with_capacity(opts.people / 3 + 1),
        persons: Vec::with_capacity(opts.people),
        tehran: geo.provinces.iter().position(|p| p.code == "23"),
    };
    while g.persons.len() < opts.people {
        let province = provinces.draw(&mut g.rng);
        let county = counties[province].draw(&mut g.rng);
        let cap = opts.people - g.persons.len();
        g.household(province, county, cap);
    }
    (g.households, g.persons)
}

/// A birth date `age` whole years before the reference date.
fn birth_for_age(rng: &mut Rng, age: i32) -> JDate {
    let r = REFERENCE_DATE;
    loop {
        let month = rng.between(1, 12) as u8;
        let max_day = match month {
            1..=6 => 31,
            7..=11 => 30,
            _ => 29,
        };
        let day = rng.between(1, max_day) as u8;
        // Born in year Y, the person is 1399 − Y years old after the birthday, one less before.
        let year = if (month, day) <= (r.month, r.day) {
            r.year - age
        } else {
            r.year - age - 1
        };
        let d = JDate { year, month, day };
        if d <= r {
            return d;
        }
    }
}

impl Gen<'_> {
    fn female_name(&mut self) -> &'static str {
        if self.opts.household_patterns && self.rng.chance(0.08) {
            let i = self.rng.below(COMPOUND_FEMALE.len());
            return COMPOUND_FEMALE[i];
        }
        self.rng.skewed(FEMALE, FIRST_SKEW)
    }

    fn male_name(&mut self) -> &'static str {
        if self.opts.household_patterns && self.rng.chance(0.12) {
            let i = self.rng.below(COMPOUND_MALE.len());
            return COMPOUND_MALE[i];
        }
        self.rng.skewed(MALE, FIRST_SKEW)
    }

    fn surname(&mut self) -> &'static str {
        self.rng.skewed(SURNAMES, SURNAME_SKEW)
    }

    fn is_sayyid(&mut self, surname: &str) -> bool {
        let p = if SAYYID_SURNAMES.contains(&surname) {
            0.6
        } else {
            0.06
        };
        self.rng.chance(p)
    }

    /// Age drawn in `lo..=hi`, younger ages more likely for `skew` > 1.
    fn age(&mut self, lo: i32, hi: i32, skew: f64) -> i32 {
        lo + ((hi - lo + 1) as f64 * self.rng.unit().powf(skew)) as i32
    }

    /// A new unique national code for someone living in `province`.
    fn national_code(&mut self, province: usize) -> String {
        let born_in_tehran = if Some(province) == self.tehran {
            self.rng.chance(0.9)
        } else {
            self.rng.chance(0.03)
        };
        loop {
            let prefix: u32 = if born_in_tehran {
                self.rng.between(1, 8) as u32
            } else {
                // Three-digit prefixes 100–939, a band of 28 per province.
                let k = province as u32 % 30;
                100 + 28 * k + self.rng.below(28) as u32
            };
            let rest = self.rng.below(1_000_000) as u32;
            let n = prefix * 1_000_000 + rest;
            if self.used_codes.contains(&n) {
                continue;
            }
            let mut first9 = [0u8; 9];
            let mut m = n;
            for slot in first9.iter_mut().rev() {
                *slot = (m % 10) as u8;
                m /= 10;
            }
            let check = check_digit_for(&first9);
            if first9.iter().all(|&d| d == check) {
                continue;
            }
            self.used_codes.insert(n);
            let mut s = String::with_capacity(10);
            for d in first9.iter().chain(std::iter::once(&check)) {
                s.push(char::from(b'0' + d));
            }
            return s;
        }
    }

    fn mobile(&mut self) -> String {
        let mut s = String::with_capacity(11);
        s.push_str("09");
        let prefix = *self.rng.pick(&MOBILE_PREFIXES);
        s.push_str(prefix);
        for _ in 0..7 {
            s.push(char::from(b'0' + self.rng.digit()));
        }
        s
    }

    fn landline(&mut self, province: usize) -> String {
        let code = &self.geo.provinces[province].code;
        let area = AREA_CODES
            .iter()
            .find(|(p, _)| p == code)
            .map_or("021", |(_, a)| a);
        let mut s = String::with_capacity(11);
        s.push_str(area);
        s.push(char::from(b'2' + self.rng.below(7) as u8));
        for _ in 0..7 {
            s.push(char::from(b'0' + self.rng.digit()));
        }
        s
    }

    fn address(&mut self, county: usize, zone: Zone) -> String {
        let street = self.rng.pick(STREETS).to_string();
        let alley = if self.rng.chance(0.5) {
            self.rng.pick(STREETS).to_string()
        } else {
            self.rng.between(1, 40).to_string()
        };
        let plate = self.rng.between(1, 320);
        match zone {
            Zone::Urban => {
                let county = &self.geo.counties[county].name_fa;
                let kind = *self.rng.pick(&["خیابان", "خیابان", "خیابان", "بلوار"]);
                format!("{county}، {kind} {street}، کوچه {alley}، پلاک {plate}")
            }
            Zone::Rural => {
                let stem = *self.rng.pick(VILLAGES);
                let village = if self.rng.chance(0.5) && !stem.contains('\u{200C}') {
                    format!("{stem}‌آباد")
                } else {
                    stem.to_string()
                };
                format!("روستای {village}، کوچه {street}، پلاک {plate}")
            }
        }
    }

    fn add(&mut self, household: usize, province: usize, spec: Spec<'_>) -> usize {
        let age = spec.birth.age();
        let mobile = if age >= 18 && self.rng.chance(if age >= 75 { 0.6 } else { 0.9 }) {
            Some(self.mobile())
        } else {
            None
        };
        let disability = self.rng.chance(if age >= 65 { 0.08 } else { 0.02 });
        let chronic_illness = self.rng.chance(match age {
            65.. => 0.25,
            50.. => 0.12,
            _ => 0.03,
        });
        let national_code = self.national_code(province);
        self.persons.push(Person {
            national_code,
            first_name: spec.first.to_string(),
            last_name: spec.last.to_string(),
            father_name: spec.father.to_string(),
            birth_date: spec.birth,
            gender: spec.gender,
            mobile,
            household,
            relation: spec.relation,
            sayyid: spec.sayyid,
            disability,
            chronic_illness,
        });
        self.persons.len() - 1
    }

    /// Children of a mother aged `mother_age` (some already left home): distinct birth years,
    /// distinct first names, sometimes twins.
    #[allow(clippy::too_many_arguments)]
    fn children(
        &mut self,
        members: &mut Vec<Spec<'static>>,
        mother_age: i32,
        father_first: &'static str,
        surname: &'static str,
        sayyid: bool,
        cap: usize,
    ) {
        let oldest = (mother_age - 18).min(30);
        if oldest < 0 {
            return;
        }
        let weights: &[f64] = if mother_age >= 55 {
            &[0.55, 0.28, 0.12, 0.05]
        } else {
            &[0.14, 0.26, 0.32, 0.17, 0.07, 0.04]
        };
        let n = self.rng.weighted(weights).min(oldest as usize + 1);
        let mut ages: Vec<i32> = (0..=oldest).collect();
        for i in 0..n {
            let j = i + self.rng.below(ages.len() - i);
            ages.swap(i, j);
        }
        ages.truncate(n);
        ages.sort_unstable_by(|a, b| b.cmp(a));
        let twins_at = (n >= 1 && self.rng.chance(0.035)).then(|| self.rng.below(n));
        for (k, &age) in ages.iter().enumerate() {
            for twin in 0..=usize::from(twins_at == Some(k)) {
                if members.len() >= cap {
                    return;
                }
                let gender = if self.rng.chance(0.5) {
                    Gender::Female
                } else {
                    Gender::Male
                };
                let birth = if twin == 1 {
                    members.last().map(|m| m.birth).unwrap_or(REFERENCE_DATE)
                } else {
                    birth_for_age(&mut self.rng, age)
                };
                let mut first = "";
                for _ in 0..8 {
                    first = match gender {
                        Gender::Female => self.female_name(),
                        Gender::Male => self.male_name(),
                    };
                    if !members.iter().any(|m| m.first == first) && first != father_first {
                        break;
                    }
                }
                members.push(Spec {
                    relation: Relation::Child,
                    gender,
                    first,
                    last: surname,
                    father: father_first,
                    birth,
                    sayyid,
                });
            }
        }
    }

    fn household(&mut self, province: usize, county: usize, cap: usize) {
        let hh = self.households.len();
        let capital = self.geo.provinces[province].capital_county == Some(county);
        let p_rural = if capital {
            self.opts.rural_share * 0.3
        } else {
            (self.opts.rural_share * 1.7).min(0.9)
        };
        let zone = if self.rng.chance(p_rural) {
            Zone::Rural
        } else {
            Zone::Urban
        };
        let female_head = self.rng.chance(self.opts.female_head_share);
        let mut members: Vec<Spec<'static>> = Vec::new();
        let mut reason = None;
        let mut bereaved_by_covid = false;
        if female_head {
            let r = match self.rng.weighted(&[0.42, 0.22, 0.12, 0.10, 0.14]) {
                0 => FemaleHeadReason::Widowed,
                1 => FemaleHeadReason::Divorced,
                2 => FemaleHeadReason::SpouseAbsent,
                3 => FemaleHeadReason::SpouseIncapacitated,
                _ => FemaleHeadReason::NeverMarried,
            };
            reason = Some(r);
            let age = match r {
                FemaleHeadReason::Widowed => 85 - self.age(0, 55, 1.6),
                FemaleHeadReason::Divorced => self.age(22, 60, 1.3),
                FemaleHeadReason::SpouseAbsent => self.age(22, 55, 1.2),
                FemaleHeadReason::SpouseIncapacitated => self.age(30, 75, 1.0),
                FemaleHeadReason::NeverMarried => self.age(28, 80, 1.2),
            };
            bereaved_by_covid = r == FemaleHeadReason::Widowed && self.rng.chance(0.25);
            let last = self.surname();
            let sayyid = self.is_sayyid(last);
            let father = self.male_name();
            members.push(Spec {
                relation: Relation::Head,
                gender: Gender::Female,
                first: self.female_name(),
                last,
                father,
                birth: birth_for_age(&mut self.rng, age),
                sayyid,
            });
            if r == FemaleHeadReason::NeverMarried {
                if age < 70 && self.rng.chance(0.45) {
                    self.parent(&mut members, age, father, last);
                }
                if self.rng.chance(0.15) {
                    // A sister or brother: same father.
                    let female = self.rng.chance(0.6);
                    let sib_age = self.age((age - 12).max(18), age + 12, 1.0);
                    members.push(Spec {
                        relation: Relation::Other,
                        gender: if female { Gender::Female } else { Gender::Male },
                        first: if female {
                            self.female_name()
                        } else {
                            self.male_name()
                        },
                        last,
                        father,
                        birth: birth_for_age(&mut self.rng, sib_age),
                        sayyid,
                    });
                }
            } else {
                let husband_first = self.male_name();
                let husband_last = self.surname();
                let husband_sayyid = self.is_sayyid(husband_last);
                if r == FemaleHeadReason::SpouseIncapacitated {
                    let husband_age = (age + self.rng.between(0, 10)).min(90);
                    let father = self.male_name();
                    members.push(Spec {
                        relation: Relation::Spouse,
                        gender: Gender::Male,
                        first: husband_first,
                        last: husband_last,
                        father,
                        birth: birth_for_age(&mut self.rng, husband_age),
                        sayyid: husband_sayyid,
                    });
                }
                self.children(
                    &mut members,
                    age,
                    husband_first,
                    husband_last,
                    husband_sayyid,
                    cap,
                );
                if age >= 50 && self.rng.chance(0.06) {
                    // A grandchild living with the grandmother.
                    let female = self.rng.chance(0.5);
                    let gc_age = self.age(0, 15, 1.0);
                    members.push(Spec {
                        relation: Relation::Other,
                        gender: if female { Gender::Female } else { Gender::Male },
                        first: if female {
                            self.female_name()
                        } else {
                            self.male_name()
                        },
                        last: self.surname(),
                        father: self.male_name(),
                        birth: birth_for_age(&mut self.rng, gc_age),
                        sayyid: false,
                    });
                }
            }
        } else {
            let age = self.age(22, 88, 1.35);
            let last = self.surname();
            let sayyid = self.is_sayyid(last);
            let head_first = self.male_name();
            let father = self.male_name();
            members.push(Spec {
                relation: Relation::Head,
                gender: Gender::Male,
                first: head_first,
                last,
                father,
                birth: birth_for_age(&mut self.rng, age),
                sayyid,
            });
            let married = self.rng.chance(if age < 25 { 0.7 } else { 0.92 });
            if married {
                let wife_age = if self.rng.chance(0.1) {
                    age + self.rng.between(1, 3)
                } else {
                    (age - self.rng.between(0, 10)).max(18)
                };
                let wife_last = self.surname();
                let wife_sayyid = self.is_sayyid(wife_last);
                members.push(Spec {
                    relation: Relation::Spouse,
                    gender: Gender::Female,
                    first: self.female_name(),
                    last: wife_last,
                    father: self.male_name(),
                    birth: birth_for_age(&mut self.rng, wife_age),
                    sayyid: wife_sayyid,
                });
                self.children(
                    &mut members,
                    wife_age.min(age),
                    head_first,
                    last,
                    sayyid,
                    cap,
                );
            } else if self.rng.chance(0.5) {
                // Widower or divorced father with his children.
                self.children(&mut members, age - 4, head_first, last, sayyid, cap);
            }
            if age < 60 && self.rng.chance(0.06) {
                self.parent(&mut members, age, father, last);
            }
        }
        members.truncate(cap.max(1));

        let household_ref = format!("H{:06}", hh + 1);
        let address = self.address(county, zone);
        let phone = self.landline(province);
        let ids: Vec<usize> = members
            .into_iter()
            .map(|spec| self.add(hh, province, spec))
            .collect();
        if reason == Some(FemaleHeadReason::SpouseIncapacitated)
            && let Some(&husband) = ids.get(1)
        {
            let h = &mut self.persons[husband];
            if !h.disability && !h.chronic_illness {
                if self.rng.chance(0.5) {
                    h.disability = true;
                } else {
                    h.chronic_illness = true;
                }
            }
        }
        let mut dependants = 0u8;
        let (mut disability, mut chronic_illness, mut elderly) = (false, false, false);
        for (k, &i) in ids.iter().enumerate() {
            let p = &self.persons[i];
            let age = p.age();
            if k > 0 && (!(18..65).contains(&age) || p.disability) {
                dependants += 1;
            }
            disability |= p.disability;
            chronic_illness |= p.chronic_illness;
            elderly |= age >= 60;
        }
        let decile_weights: &[f64] = if female_head {
            &[22.0, 18.0, 14.0, 12.0, 10.0, 8.0, 6.0, 5.0, 3.0, 2.0]
        } else {
            &[7.0, 8.0, 9.0, 10.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0]
        };
        let mut income_decile = self.rng.weighted(decile_weights) as u8 + 1;
        if zone == Zone::Rural && income_decile > 1 && self.rng.chance(0.3) {
            income_decile -= 1;
        }
        if !female_head && self.rng.chance(0.01) {
            bereaved_by_covid = true;
        }
        self.households.push(Household {
            household_ref,
            province,
            county,
            zone,
            address,
            phone,
            members: ids,
            female_head,
            reason,
            dependants,
            disability,
            chronic_illness,
            elderly,
            income_decile,
            bereaved_by_covid,
        });
    }

    /// A parent of a head aged `head_age` whose father is `father` and surname `surname`.
    fn parent(
        &mut self,
        members: &mut Vec<Spec<'static>>,
        head_age: i32,
        father: &'static str,
        surname: &'static str,
    ) {
        let age = (head_age + self.rng.between(20, 35)).min(98);
        let birth = birth_for_age(&mut self.rng, age);
        if self.rng.chance(0.3) {
            let sayyid = members[0].sayyid;
            members.push(Spec {
                relation: Relation::Parent,
                gender: Gender::Male,
                first: father,
                last: surname,
                father: self.male_name(),
                birth,
                sayyid,
            });
        } else {
            let last = self.surname();
            let sayyid = self.is_sayyid(last);
            members.push(Spec {
                relation: Relation::Parent,
                gender: Gender::Female,
                first: self.female_name(),
                last,
                father: self.male_name(),
                birth,
                sayyid,
            });
        }
    }
}
