//! Who each organisation lists, and how its list writes them.

use crate::noise::{
    DateStyle, Digits, Noise, arabic_letters, birth_text, code_typo, garbage_code, phone_text,
    typo, vary_compound, vary_compound_first, with_digits,
};
use crate::rng::Rng;
use crate::{
    FileFormat, Gender, HeaderStyle, JDate, List, ListKind, ListRow, OrgKind, Population,
    Programme, SupportKind, Zone,
};

pub(crate) const RELIEF_PENSION: Programme = Programme {
    code: "relief_pension",
    label_fa: "مستمری کمیته امداد",
    support_kind: SupportKind::Pension,
};
pub(crate) const WELFARE_FEMALE_HEAD: Programme = Programme {
    code: "welfare_female_head",
    label_fa: "مستمری زنان سرپرست خانوار",
    support_kind: SupportKind::Pension,
};
pub(crate) const WELFARE_DISABILITY: Programme = Programme {
    code: "welfare_disability",
    label_fa: "مستمری افراد دارای معلولیت",
    support_kind: SupportKind::Pension,
};
pub(crate) const CHARITY_FOOD: Programme = Programme {
    code: "charity_food_parcel",
    label_fa: "سبد غذایی",
    support_kind: SupportKind::Food,
};
pub(crate) const RED_CRESCENT_HYGIENE: Programme = Programme {
    code: "red_crescent_hygiene",
    label_fa: "بسته بهداشتی",
    support_kind: SupportKind::Hygiene,
};

pub(crate) fn generate(pop: &Population) -> Vec<List> {
    let relief = relief(pop);
    let welfare = welfare(pop, &relief);
    vec![
        relief,
        welfare,
        charity(pop),
        red_crescent(pop),
        survey(pop),
        roster(pop),
    ]
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// A random Jalali date between two years (inclusive), not after the reference date.
fn date_between(rng: &mut Rng, from_year: i32, to_year: i32, max: JDate) -> JDate {
    loop {
        let d = JDate {
            year: rng.between(from_year, to_year),
            month: rng.between(1, 12) as u8,
            day: rng.between(1, 29) as u8,
        };
        if d <= max {
            return d;
        }
    }
}

/// Makes a list's rows from people, with the list's noise.
struct Maker<'a> {
    pop: &'a Population,
    rng: Rng,
    noise: Noise,
    style: HeaderStyle,
    xlsx: bool,
    full_name_only: bool,
    date_style: DateStyle,
    /// [`SynthOptions::household_patterns`](crate::SynthOptions).
    hard: bool,
}

impl<'a> Maker<'a> {
    fn new(pop: &'a Population, stream: &str, noise: Noise, style: HeaderStyle) -> Maker<'a> {
        Maker {
            pop,
            rng: Rng::new(pop.options.seed, stream),
            noise: noise.scaled(pop.options.noise),
            style,
            xlsx: false,
            full_name_only: false,
            date_style: DateStyle::SlashPadded,
            hard: pop.options.household_patterns,
        }
    }

    fn digits(&mut self) -> Digits {
        let x = self.rng.unit();
        if x < self.noise.persian_digits {
            Digits::Persian
        } else if x < self.noise.persian_digits + self.noise.arabic_digits {
            Digits::ArabicIndic
        } else {
            Digits::Ascii
        }
    }

    fn gender_text(&mut self, g: Gender) -> String {
        let female = g == Gender::Female;
        let pair = match self.style {
            HeaderStyle::Persian => {
                if self.rng.chance(0.05) {
                    ("خانم", "آقا")
                } else {
                    ("زن", "مرد")
                }
            }
            HeaderStyle::Canonical => match self.rng.below(10) {
                0 => ("F", "M"),
                1 => ("زن", "مرد"),
                _ => ("female", "male"),
            },
        };
        (if female { pair.0 } else { pair.1 }).to_owned()
    }

    /// A row about `person` (source id and extra cells left for the caller).
    fn row(&mut self, person: usize) -> ListRow {
        let pop = self.pop;
        let p = &pop.persons[person];
        let h = &pop.households[p.household];
        let n = self.noise;
        let rng = &mut self.rng;
        let arabic = rng.chance(n.arabic_letters);
        let digits = self.digits();
        let rng = &mut self.rng;

        let mut first = if rng.chance(n.compound) {
            if self.hard {
                vary_compound_first(rng, &p.first_name)
            } else {
                vary_compound(rng, &p.first_name, false)
            }
        } else {
            p.first_name.clone()
        };
        let mut last = if rng.chance(n.compound) {
            vary_compound(rng, &p.last_name, true)
        } else {
            p.last_name.clone()
        };
        let father = if rng.chance(n.missing_father) {
            String::new()
        } else if rng.chance(n.compound) {
            vary_compound(rng, &p.father_name, false)
        } else {
            p.father_name.clone()
        };
        if rng.chance(n.typo) {
            if rng.chance(0.5) {
                first = typo(rng, &first);
            } else {
                last = typo(rng, &last);
            }
        }
        let age = p.age();
        let female = p.gender == Gender::Female;
        let honorific_rate = if p.sayyid {
            n.honorific * 5.0
        } else {
            n.honorific
        };
        let honorific = if rng.chance(honorific_rate) {
            if p.sayyid {
                Some(if female { "سیده" } else { "سید" })
            } else if age >= 50 && rng.chance(0.5) {
                Some(if female { "حاجیه" } else { "حاج" })
            } else if female && !self.full_name_only {
                Some("خانم")
            } else if self.hard {
                Some(*rng.pick(if female {
                    &["خانم", "حاجیه خانم", "سرکار خانم"][..]
                } else {
                    &["آقای", "کربلایی", "مشهدی", "حاج آقا"][..]
                }))
            } else {
                None
            }
        } else {
            None
        };
        if let Some(hon) = honorific {
            first = format!("{hon} {first}");
        }
        if rng.chance(n.swap_names) {
            std::mem::swap(&mut first, &mut last);
        }

        let mut row = ListRow {
            person: Some(person),
            ..ListRow::default()
        };
        if rng.chance(n.missing_code) {
            // Left empty.
        } else if rng.chance(n.code_typo) {
            row.national_code = with_digits(&code_typo(rng, &p.national_code), digits);
        } else if p.national_code.starts_with('0') && rng.chance(n.lost_zeros) {
            if self.xlsx {
                row.national_code = p.national_code.clone();
                row.code_as_number = true;
            } else {
                row.national_code = p.national_code.trim_start_matches('0').to_owned();
            }
        } else {
            row.national_code = with_digits(&p.national_code, digits);
        }
        row.birth_date = with_digits(&birth_text(rng, &n, p.birth_date, self.date_style), digits);
        row.gender = self.gender_text(p.gender);
        let rng = &mut self.rng;
        // Someone without a mobile (a child) is reached through the head or the spouse.
        let mobile = p.mobile.as_deref().or_else(|| {
            h.members
                .iter()
                .find_map(|&m| pop.persons[m].mobile.as_deref())
        });
        row.phone = match mobile {
            _ if rng.chance(n.missing_phone) => String::new(),
            _ if rng.chance(n.landline) => h.phone.clone(),
            Some(m) => phone_text(rng, &n, m),
            None => String::new(),
        };
        row.phone = with_digits(&row.phone, digits);
        row.province = pop.geography.provinces[h.province].name_fa.clone();
        row.county = pop.geography.counties[h.county].name_fa.clone();
        row.address = if rng.chance(n.missing_address) {
            String::new()
        } else {
            with_digits(&h.address, digits)
        };
        if self.full_name_only && self.hard {
            // A fifth of full names surname first, some of them with a comma; the honorific
            // stays in front of the first name.
            let rng = &mut self.rng;
            row.full_name = match rng.below(20) {
                0..=1 => format!("{last}، {first}"),
                2 => format!("{last}, {first}"),
                3..=4 => format!("{last} {first}"),
                _ => format!("{first} {last}"),
            };
        } else if self.full_name_only {
            row.full_name = format!("{first} {last}");
        } else {
            row.first_name = first;
            row.last_name = last;
        }
        row.father_name = father;
        if arabic {
            for cell in [
                &mut row.first_name,
                &mut row.last_name,
                &mut row.full_name,
                &mut row.father_name,
                &mut row.province,
                &mut row.county,
                &mut row.address,
            ] {
                *cell = arabic_letters(cell);
            }
        }
        row
    }

    /// An unusable row: no names, a garbage national code, some other cells filled.
    fn invalid_row(&mut self, extra_len: usize) -> ListRow {
        let rng = &mut self.rng;
        let national_code = garbage_code(rng);
        let h = &self.pop.households[rng.below(self.pop.households.len())];
        ListRow {
            national_code,
            phone: if rng.chance(0.5) {
                h.phone.clone()
            } else {
                String::new()
            },
            province: self.pop.geography.provinces[h.province].name_fa.clone(),
            extra: vec![String::new(); extra_len],
            invalid: true,
            ..ListRow::default()
        }
    }

    /// Adds duplicates (same person, fresh noise) and invalid rows, then numbers the rows.
    fn finish(
        &mut self,
        mut rows: Vec<ListRow>,
        mut redo_extra: impl FnMut(&mut Rng, &ListRow) -> Vec<String>,
        id: impl Fn(usize) -> String,
    ) -> Vec<ListRow> {
        let originals = rows.len();
        if originals == 0 {
            return rows;
        }
        for i in 0..originals {
            if self.rng.chance(self.noise.duplicate)
                && let Some(person) = rows[i].person
            {
                let mut dup = self.row(person);
                dup.extra = redo_extra(&mut self.rng, &rows[i]);
                rows.push(dup);
            }
        }
        let extra_len = rows[0].extra.len();
        let invalid = if self.noise.invalid > 0.0 {
            ((originals as f64 * self.noise.invalid).round() as usize).max(2)
        } else {
            0
        };
        // Each invalid row goes in at a random place of the list as it then is; the places
        // are drawn one after another as before and the rows put in their final places in
        // one pass (inserting one by one moved millions of rows each time at national size).
        let mut inserts = Vec::with_capacity(invalid);
        for k in 0..invalid {
            let at = self.rng.below(rows.len() + k + 1);
            inserts.push((at, self.invalid_row(extra_len)));
        }
        let mut rows = place_inserts(rows, inserts);
        for (i, r) in rows.iter_mut().enumerate() {
            r.source_id = id(i + 1);
        }
        rows
    }
}

/// The list `rows` becomes when each `(at, item)` of `inserts`, in order, is inserted at
/// index `at` of the list as it is then (`Vec::insert`), in O((n + k) log n) instead of
/// O(n × k). Going backwards, the k-th inserted item takes the `at`-th slot (from 0) among the
/// final slots no later insert took; the original rows fill the slots left, in order.
fn place_inserts<T>(rows: Vec<T>, inserts: Vec<(usize, T)>) -> Vec<T> {
    if inserts.is_empty() {
        return rows;
    }
    let total = rows.len() + inserts.len();
    // A Fenwick tree of free slots (1 = free), 1-based.
    let mut tree = vec![0usize; total + 1];
    for i in 1..=total {
        tree[i] += 1;
        let parent = i + (i & i.wrapping_neg());
        if parent <= total {
            tree[parent] += tree[i];
        }
    }
    let top = usize::BITS - total.leading_zeros();
    let mut slot_of = vec![0usize; inserts.len()];
    for (k, (at, _)) in inserts.iter().enumerate().rev() {
        // The slot with `at` free slots before it: descend the tree.
        let mut pos = 0;
        let mut left = *at;
        for bit in (0..top).rev() {
            let next = pos + (1 << bit);
            if next <= total && tree[next] <= left {
                pos = next;
                left -= tree[next];
            }
        }
        slot_of[k] = pos;
        let mut i = pos + 1;
        while i <= total {
            tree[i] -= 1;
            i += i & i.wrapping_neg();
        }
    }
    let mut placed: Vec<Option<T>> = (0..total).map(|_| None).collect();
    for ((_, item), slot) in inserts.into_iter().zip(slot_of) {
        placed[slot] = Some(item);
    }
    let mut originals = rows.into_iter();
    placed
        .into_iter()
        .map(|p| p.or_else(|| originals.next()))
        .collect::<Option<Vec<T>>>()
        .unwrap_or_default()
}

fn relief(pop: &Population) -> List {
    let noise = Noise {
        arabic_letters: 0.15,
        compound: 0.15,
        honorific: 0.03,
        typo: 0.02,
        swap_names: 0.005,
        missing_code: 0.01,
        code_typo: 0.01,
        lost_zeros: 0.3,
        date_format: 0.05,
        day_month_swap: 0.01,
        year_only: 0.01,
        missing_birth: 0.01,
        missing_father: 0.02,
        missing_phone: 0.1,
        landline: 0.03,
        phone_format: 0.15,
        missing_address: 0.02,
        duplicate: 0.005,
        invalid: 0.002,
        ..Noise::default()
    };
    let mut m = Maker::new(pop, "relief", noise, HeaderStyle::Canonical);
    let hard = m.hard;
    let mut rows = Vec::new();
    let mut case = 0;
    for h in &pop.households {
        let mut p: f64 = if h.female_head {
            match h.income_decile {
                1..=3 => 0.45,
                4..=5 => 0.25,
                _ => 0.05,
            }
        } else {
            match h.income_decile {
                1..=2 if h.elderly || h.disability => 0.30,
                1..=2 => 0.08,
                3 => 0.03,
                _ => 0.0,
            }
        };
        if h.zone == Zone::Rural {
            p *= 1.15;
        }
        if !m.rng.chance(p) {
            continue;
        }
        case += 1;
        let case_no = format!("{:07}", 1_200_000 + case * 7);
        let since = date_between(&mut m.rng, 1385, 1399, crate::REFERENCE_DATE).to_string();
        // The last monthly payment, to the head: a pension in rials.
        let paid = date_between(&mut m.rng, 1399, 1399, crate::REFERENCE_DATE).to_string();
        let amount = (12 + h.members.len() as u64 * 4) * 500_000;
        // Half the households' dependants are written under the head's national code (the
        // case's code), the way many relief lists keep them.
        let under_head = hard && m.rng.chance(0.5);
        let head_code = if under_head {
            with_digits(&pop.persons[h.head()].national_code, m.digits())
        } else {
            String::new()
        };
        for &person in &h.members {
            let mut row = m.row(person);
            let head = person == h.head();
            if under_head && !head {
                row.national_code = head_code.clone();
            }
            let relation = if hard {
                relation_words(&mut m.rng, &pop.persons[person])
            } else {
                pop.persons[person].relation.code().to_owned()
            };
            row.extra = vec![
                case_no.clone(),
                relation,
                RELIEF_PENSION.code.to_owned(),
                since.clone(),
                SupportKind::Pension.code().to_owned(),
                if head {
                    amount.to_string()
                } else {
                    String::new()
                },
                if head { paid.clone() } else { String::new() },
            ];
            rows.push(row);
        }
    }
    let rows = m.finish(
        rows,
        |_, orig| orig.extra.clone(),
        |i| format!("IKRC-{i:06}"),
    );
    List {
        name: "relief_committee",
        title_fa: "کمیته امداد (داده ساختگی)",
        organisation: OrgKind::Relief,
        list_kind: ListKind::Programme,
        support_kind: Some(SupportKind::Pension),
        programmes: vec![RELIEF_PENSION],
        header_style: HeaderStyle::Canonical,
        format: FileFormat::Csv { bom: false },
        full_name_only: false,
        extra_columns: vec![
            "case_no",
            if hard {
                "نسبت با سرپرست"
            } else {
                "relation"
            },
            "programme",
            "since",
            "support_kind",
            "amount",
            "support_date",
        ],
        rows,
    }
}

fn welfare(pop: &Population, relief: &List) -> List {
    let noise = Noise {
        arabic_letters: 0.3,
        persian_digits: 0.5,
        arabic_digits: 0.05,
        compound: 0.3,
        honorific: 0.05,
        typo: 0.03,
        swap_names: 0.01,
        missing_code: 0.03,
        code_typo: 0.02,
        lost_zeros: 0.2,
        date_format: 0.15,
        day_month_swap: 0.03,
        year_only: 0.03,
        missing_birth: 0.02,
        missing_father: 0.05,
        missing_phone: 0.15,
        landline: 0.05,
        phone_format: 0.2,
        missing_address: 0.05,
        duplicate: 0.02,
        invalid: 0.004,
    };
    let mut in_relief = vec![false; pop.persons.len()];
    for r in &relief.rows {
        if let Some(p) = r.person {
            in_relief[p] = true;
        }
    }
    let mut m = Maker::new(pop, "welfare", noise, HeaderStyle::Persian);
    m.date_style = DateStyle::SlashPlain;
    let mut rows = Vec::new();
    let since = |rng: &mut Rng| -> String {
        let d = date_between(rng, 1388, 1399, crate::REFERENCE_DATE);
        format!("{}/{}/{}", d.year, d.month, d.day)
    };
    for h in &pop.households {
        if h.female_head {
            let p = if in_relief[h.head()] { 0.25 } else { 0.175 };
            if m.rng.chance(p) {
                let mut row = m.row(h.head());
                let s = since(&mut m.rng);
                row.extra = vec![
                    WELFARE_FEMALE_HEAD.label_fa.to_owned(),
                    s,
                    SupportKind::Pension.label_fa().to_owned(),
                    "۶٬۵۰۰٬۰۰۰".to_owned(),
                ];
                if m.hard {
                    row.extra
                        .push(relation_words(&mut m.rng, &pop.persons[h.head()]));
                }
                rows.push(row);
            }
        }
        for &person in &h.members {
            if pop.persons[person].disability && m.rng.chance(0.35) {
                let mut row = m.row(person);
                let s = since(&mut m.rng);
                let mut relation = String::new();
                if m.hard && person != h.head() {
                    // A disabled dependant's pension filed under the guardian's (head's) code.
                    relation = relation_words(&mut m.rng, &pop.persons[person]);
                    if m.rng.chance(0.6) {
                        row.national_code = pop.persons[h.head()].national_code.clone();
                    }
                } else if m.hard {
                    relation = relation_words(&mut m.rng, &pop.persons[person]);
                }
                row.extra = vec![
                    WELFARE_DISABILITY.label_fa.to_owned(),
                    s,
                    SupportKind::Pension.label_fa().to_owned(),
                    "۵٬۰۰۰٬۰۰۰".to_owned(),
                ];
                if m.hard {
                    row.extra.push(relation);
                }
                rows.push(row);
            }
        }
    }
    let rows = m.finish(
        rows,
        |_, orig| orig.extra.clone(),
        |i| format!("{}", 99_000 + i),
    );
    List {
        name: "welfare",
        title_fa: "سازمان بهزیستی (داده ساختگی)",
        organisation: OrgKind::Welfare,
        list_kind: ListKind::Programme,
        support_kind: Some(SupportKind::Pension),
        programmes: vec![WELFARE_FEMALE_HEAD, WELFARE_DISABILITY],
        header_style: HeaderStyle::Persian,
        format: FileFormat::Csv { bom: true },
        full_name_only: false,
        extra_columns: if pop.options.household_patterns {
            vec!["طرح", "تاریخ عضویت", "نوع کمک", "مبلغ (ریال)", "نسبت"]
        } else {
            vec!["طرح", "تاریخ عضویت", "نوع کمک", "مبلغ (ریال)"]
        },
        rows,
    }
}

fn charity(pop: &Population) -> List {
    let noise = Noise {
        arabic_letters: 0.25,
        persian_digits: 0.3,
        arabic_digits: 0.03,
        compound: 0.3,
        honorific: 0.08,
        typo: 0.05,
        swap_names: 0.03,
        missing_code: 0.10,
        code_typo: 0.04,
        lost_zeros: 0.8,
        date_format: 0.2,
        day_month_swap: 0.03,
        year_only: 0.15,
        missing_birth: 0.2,
        missing_father: 0.3,
        missing_phone: 0.1,
        landline: 0.1,
        phone_format: 0.4,
        missing_address: 0.2,
        duplicate: 0.03,
        invalid: 0.006,
    };
    let noise = if pop.options.household_patterns {
        Noise {
            compound: 0.5,
            honorific: 0.25,
            typo: 0.08,
            missing_code: 0.7,
            missing_birth: 0.35,
            year_only: 0.25,
            missing_father: 0.45,
            missing_phone: 0.3,
            ..noise
        }
    } else {
        noise
    };
    let reach = if pop.options.household_patterns {
        3.0
    } else {
        1.0
    };
    let mut m = Maker::new(pop, "charity", noise, HeaderStyle::Persian);
    m.xlsx = true;
    m.full_name_only = true;
    m.date_style = DateStyle::Dash;
    let mut rows = Vec::new();
    let received = |rng: &mut Rng| -> String {
        let d = date_between(rng, 1399, 1399, crate::REFERENCE_DATE);
        d.to_string()
    };
    for h in &pop.households {
        let p = if h.female_head {
            if h.income_decile <= 5 { 0.12 } else { 0.04 }
        } else if h.income_decile <= 2 {
            0.05
        } else {
            0.0
        };
        if !m.rng.chance(p * reach) {
            continue;
        }
        // The parcel goes to the woman of the house.
        let recipient = h
            .members
            .iter()
            .copied()
            .find(|&i| pop.persons[i].gender == Gender::Female && pop.persons[i].age() >= 18)
            .unwrap_or(h.head());
        let mut row = m.row(recipient);
        let r = received(&mut m.rng);
        row.extra = vec![
            CHARITY_FOOD.label_fa.to_owned(),
            r,
            parcel_tomans(h.members.len()),
        ];
        rows.push(row);
    }
    let rows = m.finish(
        rows,
        |rng, orig| vec![orig.extra[0].clone(), received(rng), orig.extra[2].clone()],
        |i| i.to_string(),
    );
    List {
        name: "charity",
        title_fa: "خیریه نیکوکاران همدل (داده ساختگی)",
        organisation: OrgKind::Charity,
        list_kind: ListKind::Programme,
        support_kind: Some(SupportKind::Food),
        programmes: vec![CHARITY_FOOD],
        header_style: HeaderStyle::Persian,
        format: FileFormat::Xlsx,
        full_name_only: true,
        extra_columns: vec!["نوع کمک", "تاریخ دریافت", "مبلغ (تومان)"],
        rows,
    }
}

/// The value of a food parcel in tomans, Persian digits grouped: more for a larger household.
fn parcel_tomans(members: usize) -> String {
    let tomans = 600_000 + 200_000 * members.min(6) as u64;
    let grouped = tomans
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("٬");
    with_digits(&grouped, Digits::Persian)
}

fn red_crescent(pop: &Population) -> List {
    let noise = Noise {
        arabic_letters: 0.1,
        persian_digits: 0.1,
        compound: 0.2,
        honorific: 0.03,
        typo: 0.03,
        swap_names: 0.01,
        missing_code: 0.05,
        code_typo: 0.02,
        lost_zeros: 0.4,
        date_format: 0.1,
        day_month_swap: 0.02,
        year_only: 0.05,
        missing_birth: 0.05,
        missing_father: 0.1,
        missing_phone: 0.1,
        landline: 0.05,
        phone_format: 0.2,
        missing_address: 0.05,
        duplicate: 0.01,
        invalid: 0.005,
        ..Noise::default()
    };
    let mut m = Maker::new(pop, "red_crescent", noise, HeaderStyle::Canonical);
    m.date_style = DateStyle::Compact;
    let mut rows = Vec::new();
    for h in &pop.households {
        let p = if h.female_head {
            0.05
        } else if h.income_decile <= 3 {
            0.015
        } else {
            0.0
        };
        if !m.rng.chance(p) {
            continue;
        }
        let mut row = m.row(h.head());
        let since = date_between(&mut m.rng, 1399, 1399, crate::REFERENCE_DATE).to_string();
        row.extra = vec![
            RED_CRESCENT_HYGIENE.code.to_owned(),
            since.clone(),
            SupportKind::Hygiene.code().to_owned(),
            "1500000".to_owned(),
            since,
        ];
        rows.push(row);
    }
    let rows = m.finish(rows, |_, orig| orig.extra.clone(), |i| format!("HLA{i:05}"));
    List {
        name: "red_crescent",
        title_fa: "جمعیت هلال احمر (داده ساختگی)",
        organisation: OrgKind::RedCrescent,
        list_kind: ListKind::Programme,
        support_kind: Some(SupportKind::Hygiene),
        programmes: vec![RED_CRESCENT_HYGIENE],
        header_style: HeaderStyle::Canonical,
        format: FileFormat::Csv { bom: false },
        full_name_only: false,
        extra_columns: vec![
            "programme",
            "since",
            "support_kind",
            "amount",
            "support_date",
        ],
        rows,
    }
}

fn survey(pop: &Population) -> List {
    let noise = Noise {
        arabic_letters: 0.05,
        persian_digits: 0.2,
        compound: 0.2,
        honorific: 0.05,
        typo: 0.02,
        missing_code: 0.02,
        code_typo: 0.02,
        date_format: 0.05,
        day_month_swap: 0.01,
        year_only: 0.02,
        missing_birth: 0.01,
        missing_father: 0.03,
        missing_phone: 0.05,
        landline: 0.02,
        phone_format: 0.1,
        missing_address: 0.01,
        invalid: 0.003,
        ..Noise::default()
    };
    let mut m = Maker::new(pop, "survey", noise, HeaderStyle::Canonical);
    let mut rows = Vec::new();
    for h in &pop.households {
        if !h.female_head || !pop.survey_counties.contains(&h.county) || !m.rng.chance(0.8) {
            continue;
        }
        let mut row = m.row(h.head());
        let date = date_between(&mut m.rng, 1399, 1399, crate::REFERENCE_DATE);
        row.extra = vec![
            h.household_ref.clone(),
            pop.persons[h.head()].relation.code().to_owned(),
            h.zone.code().to_owned(),
            h.reason
                .map(|r| r.label_fa())
                .unwrap_or_default()
                .to_owned(),
            h.dependants.to_string(),
            h.income_decile.to_string(),
            yes_no(h.disability),
            date.to_string(),
        ];
        rows.push(row);
    }
    let rows = m.finish(rows, |_, orig| orig.extra.clone(), |i| format!("PZ-{i:05}"));
    List {
        name: "survey_female_heads",
        title_fa: "پیمایش زنان سرپرست خانوار (داده ساختگی)",
        organisation: OrgKind::WomenAffairs,
        list_kind: ListKind::Survey,
        support_kind: None,
        programmes: Vec::new(),
        header_style: HeaderStyle::Canonical,
        format: FileFormat::Csv { bom: false },
        full_name_only: false,
        extra_columns: vec![
            "household_id",
            "relation",
            "zone",
            "female_head_reason",
            "dependants",
            "income_decile",
            "disability",
            "survey_date",
        ],
        rows,
    }
}

/// The reference population: every household, one row per member (the head first), with the
/// household's id, each member's relation and disability, the zone and decile on every row,
/// and the female-head reason, dependants and COVID bereavement on the head's row. The demo's
/// households come from importing it.
fn roster(pop: &Population) -> List {
    let noise = Noise {
        arabic_letters: 0.05,
        persian_digits: 0.2,
        compound: 0.1,
        honorific: 0.02,
        typo: 0.01,
        missing_code: 0.005,
        code_typo: 0.005,
        date_format: 0.02,
        missing_birth: 0.005,
        missing_father: 0.02,
        missing_phone: 0.05,
        phone_format: 0.05,
        missing_address: 0.01,
        invalid: 0.001,
        ..Noise::default()
    };
    let mut m = Maker::new(pop, "roster", noise, HeaderStyle::Canonical);
    let mut rows = Vec::new();
    for h in &pop.households {
        for &person in &h.members {
            let p = &pop.persons[person];
            let head = person == h.head();
            let mut row = m.row(person);
            row.extra = vec![
                h.household_ref.clone(),
                p.relation.code().to_owned(),
                h.zone.code().to_owned(),
                match (head, h.reason) {
                    (true, Some(r)) => r.code().to_owned(),
                    _ => String::new(),
                },
                if head {
                    h.dependants.to_string()
                } else {
                    String::new()
                },
                h.income_decile.to_string(),
                yes_no(p.disability),
                yes_no(p.chronic_illness),
                if head {
                    yes_no(h.bereaved_by_covid)
                } else {
                    String::new()
                },
            ];
            rows.push(row);
        }
    }
    let rows = m.finish(rows, |_, orig| orig.extra.clone(), |i| format!("HH-{i:07}"));
    List {
        name: "household_roster",
        title_fa: "پرونده خانوارها (داده ساختگی)",
        organisation: OrgKind::WomenAffairs,
        list_kind: ListKind::Reference,
        support_kind: None,
        programmes: Vec::new(),
        header_style: HeaderStyle::Canonical,
        format: FileFormat::Csv { bom: false },
        full_name_only: false,
        extra_columns: vec![
            "household_id",
            "relation",
            "zone",
            "female_head_reason",
            "dependants",
            "income_decile",
            "disability",
            "chronic_illness",
            "bereaved_by_covid",
        ],
        rows,
    }
}

/// The relation to the head in the words lists use (several spellings of each).
fn relation_words(rng: &mut Rng, p: &crate::Person) -> String {
    use crate::Relation;
    let female = p.gender == Gender::Female;
    let words: &[&str] = match p.relation {
        Relation::Head => &["سرپرست", "سرپرست خانوار", "خود", "سرپرست"],
        Relation::Spouse if female => &["همسر", "زن", "همسر"],
        Relation::Spouse => &["همسر", "شوهر"],
        Relation::Child if female => &["فرزند", "دختر", "فرزند دختر", "فرزند"],
        Relation::Child => &["فرزند", "پسر", "فرزند پسر", "فرزند"],
        Relation::Parent if female => &["مادر", "والدین"],
        Relation::Parent => &["پدر", "والدین"],
        Relation::Other => &["سایر", "نوه", "سایر بستگان"],
    };
    let w = *rng.pick(words);
    if rng.chance(0.05) {
        arabic_letters(w)
    } else {
        w.to_owned()
    }
}

#[cfg(test)]
mod place_inserts_tests {
    use super::place_inserts;

    #[test]
    fn places_as_inserting_one_by_one_does() {
        let mut seed = 12345u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n
        };
        for (n, k) in [(0, 3), (1, 1), (5, 0), (10, 4), (100, 37), (7, 20)] {
            let rows: Vec<i64> = (0..n as i64).collect();
            let mut naive = rows.clone();
            let mut inserts = Vec::new();
            for j in 0..k {
                let at = next(naive.len() + 1);
                naive.insert(at, -(j as i64) - 1);
                inserts.push((at, -(j as i64) - 1));
            }
            assert_eq!(place_inserts(rows, inserts), naive, "n={n} k={k}");
        }
    }
}
