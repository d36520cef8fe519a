use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use hamdeli_text::{NationalCode, parse_date, parse_mobile};

use super::*;

/// The default population (100,000 people), generated once for all tests.
fn pop() -> &'static Population {
    static POP: OnceLock<Population> = OnceLock::new();
    POP.get_or_init(|| generate(&SynthOptions::default()))
}

fn small(seed: u64) -> SynthOptions {
    SynthOptions {
        people: 8_000,
        seed,
        ..SynthOptions::default()
    }
}

/// People listed by a list, by their index.
fn listed(pop: &Population, name: &str) -> HashSet<usize> {
    pop.list(name)
        .unwrap()
        .rows
        .iter()
        .filter_map(|r| r.person)
        .collect()
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let a = generate(&small(7));
    let b = generate(&small(7));
    let c = generate(&small(8));
    assert_eq!(a.lists.len(), b.lists.len());
    for (la, lb) in a.lists.iter().zip(&b.lists) {
        assert_eq!(
            la.to_bytes().unwrap(),
            lb.to_bytes().unwrap(),
            "{}",
            la.name
        );
    }
    assert_eq!(a.households_csv().unwrap().0, b.households_csv().unwrap().0);
    assert_eq!(a.population_csv().unwrap().0, b.population_csv().unwrap().0);
    assert_eq!(a.truth_csv().unwrap().0, b.truth_csv().unwrap().0);
    assert_ne!(a.population_csv().unwrap().0, c.population_csv().unwrap().0);
    assert_ne!(
        a.lists[0].to_bytes().unwrap(),
        c.lists[0].to_bytes().unwrap()
    );
}

#[test]
fn exact_people_count_and_sane_household_shape() {
    let pop = pop();
    assert_eq!(pop.persons.len(), 100_000);
    let hh = pop.households.len();
    assert!((27_000..=36_000).contains(&hh), "{hh} households");
    let female = pop.households.iter().filter(|h| h.female_head).count();
    let share = female as f64 / hh as f64;
    assert!((0.20..=0.25).contains(&share), "female-headed {share}");
    let rural = pop
        .households
        .iter()
        .filter(|h| h.zone == Zone::Rural)
        .count() as f64
        / hh as f64;
    assert!((0.20..=0.30).contains(&rural), "rural {rural}");
    // Every province has households; Tehran the most.
    let mut per_province = vec![0usize; pop.geography.provinces.len()];
    for h in &pop.households {
        per_province[h.province] += 1;
    }
    assert!(per_province.iter().all(|&n| n > 0));
    let tehran = pop
        .geography
        .provinces
        .iter()
        .position(|p| p.code == "23")
        .unwrap();
    assert_eq!(per_province.iter().max(), Some(&per_province[tehran]));
}

#[test]
fn national_codes_are_valid_unique_and_some_start_with_zero() {
    let pop = pop();
    let mut seen = HashSet::new();
    let mut zeros = 0;
    for p in &pop.persons {
        let code = NationalCode::parse_strict(&p.national_code)
            .unwrap_or_else(|e| panic!("{}: {e}", p.national_code));
        assert_eq!(code.as_str(), p.national_code);
        assert!(
            seen.insert(p.national_code.clone()),
            "duplicate {}",
            p.national_code
        );
        zeros += usize::from(p.national_code.starts_with('0'));
    }
    let share = zeros as f64 / pop.persons.len() as f64;
    assert!((0.05..=0.30).contains(&share), "leading zeros {share}");
}

#[test]
fn households_are_consistent() {
    let pop = pop();
    for h in &pop.households {
        let head = &pop.persons[h.head()];
        assert_eq!(head.relation, Relation::Head);
        assert_eq!(
            h.members
                .iter()
                .filter(|&&m| pop.persons[m].relation == Relation::Head)
                .count(),
            1
        );
        assert_eq!(h.female_head, head.gender == Gender::Female);
        assert_eq!(h.female_head, h.reason.is_some());
        assert!((1..=10).contains(&h.income_decile));
        if h.bereaved_by_covid && h.female_head {
            assert_eq!(h.reason, Some(FemaleHeadReason::Widowed));
        }
        let mut children = Vec::new();
        for &m in &h.members {
            let p = &pop.persons[m];
            assert_eq!(p.household, pop.persons[h.head()].household);
            assert!(p.birth_date <= REFERENCE_DATE);
            assert!(p.age() >= 0 && p.age() <= 100, "{}", p.age());
            if p.relation == Relation::Child {
                // Children are younger than every adult parent in the household by 15+ years.
                assert!(
                    head.age() - p.age() >= 14,
                    "head {} child {}",
                    head.age(),
                    p.age()
                );
                assert!(p.mobile.is_none() || p.age() >= 18);
                children.push(p);
            }
            if p.relation == Relation::Parent {
                assert!(p.age() > head.age());
            }
            if p.age() < 18 {
                assert!(p.mobile.is_none());
            }
        }
        // Siblings share the father's name and surname; no two have the same first name.
        for (i, a) in children.iter().enumerate() {
            for b in &children[i + 1..] {
                assert_eq!(a.father_name, b.father_name);
                assert_eq!(a.last_name, b.last_name);
                assert_ne!(a.first_name, b.first_name);
            }
        }
        // A male head's children carry his surname and his first name as father's name.
        if !h.female_head {
            for c in &children {
                assert_eq!(c.last_name, head.last_name);
                assert_eq!(c.father_name, head.first_name);
            }
        }
        let dependants = h
            .members
            .iter()
            .skip(1)
            .filter(|&&m| {
                let p = &pop.persons[m];
                p.age() < 18 || p.age() >= 65 || p.disability
            })
            .count();
        assert_eq!(usize::from(h.dependants), dependants, "{}", h.household_ref);
        assert_eq!(
            h.elderly,
            h.members.iter().any(|&m| pop.persons[m].age() >= 60)
        );
        assert_eq!(
            h.disability,
            h.members.iter().any(|&m| pop.persons[m].disability)
        );
    }
}

#[test]
fn twins_and_siblings_are_present_as_near_misses() {
    let pop = pop();
    let mut twins = 0;
    for h in &pop.households {
        let mut by_birth: HashMap<JDate, Vec<&Person>> = HashMap::new();
        for &m in &h.members {
            let p = &pop.persons[m];
            if p.relation == Relation::Child {
                by_birth.entry(p.birth_date).or_default().push(p);
            }
        }
        for group in by_birth.values().filter(|g| g.len() > 1) {
            twins += 1;
            assert_ne!(group[0].first_name, group[1].first_name);
            assert_ne!(group[0].national_code, group[1].national_code);
        }
    }
    assert!(twins > 100, "{twins} pairs of twins");
    // Some twins are listed together (relief lists whole households).
    let relief = listed(pop, "relief_committee");
    let listed_twins = pop
        .households
        .iter()
        .filter(|h| {
            let kids: Vec<&Person> = h
                .members
                .iter()
                .filter(|m| relief.contains(m))
                .map(|&m| &pop.persons[m])
                .filter(|p| p.relation == Relation::Child)
                .collect();
            kids.iter()
                .enumerate()
                .any(|(i, a)| kids[i + 1..].iter().any(|b| a.birth_date == b.birth_date))
        })
        .count();
    assert!(listed_twins > 0);
}

/// True for the letters of Persian names: Arabic-script letters, ZWNJ and spaces.
fn is_persian_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            matches!(
                c,
                '\u{0621}'
                    ..='\u{064A}'
                        | '\u{067E}'
                        | '\u{0686}'
                        | '\u{0698}'
                        | '\u{06A9}'
                        | '\u{06AF}'
                        | '\u{06CC}'
                        | '\u{200C}'
                        | ' '
            )
        })
}

#[test]
fn names_use_persian_letters() {
    assert!(names::FEMALE.len() >= 140 && names::MALE.len() >= 140);
    assert!(names::SURNAMES.len() >= 190);
    for n in names::FEMALE
        .iter()
        .chain(names::MALE)
        .chain(names::SURNAMES)
    {
        assert!(is_persian_name(n), "{n:?}");
    }
    let distinct: HashSet<&&str> = names::FEMALE.iter().chain(names::MALE).collect();
    assert_eq!(distinct.len(), names::FEMALE.len() + names::MALE.len());
    let pop = pop();
    for p in &pop.persons {
        assert!(is_persian_name(&p.first_name), "{:?}", p.first_name);
        assert!(is_persian_name(&p.last_name), "{:?}", p.last_name);
        assert!(is_persian_name(&p.father_name), "{:?}", p.father_name);
    }
    for l in &pop.lists {
        for r in l.rows.iter().filter(|r| !r.invalid) {
            for name in [&r.first_name, &r.last_name, &r.full_name] {
                assert!(
                    name.is_empty() || is_persian_name(name),
                    "{}: {name:?}",
                    l.name
                );
            }
        }
    }
}

#[test]
fn lists_cover_the_expected_shares_of_female_heads() {
    let pop = pop();
    let heads: HashSet<usize> = pop
        .households
        .iter()
        .filter(|h| h.female_head)
        .map(Household::head)
        .collect();
    let share =
        |name: &str| listed(pop, name).intersection(&heads).count() as f64 / heads.len() as f64;
    let relief = share("relief_committee");
    let welfare = share("welfare");
    let charity = share("charity");
    let red = share("red_crescent");
    assert!((0.25..=0.37).contains(&relief), "relief {relief}");
    assert!((0.16..=0.25).contains(&welfare), "welfare {welfare}");
    assert!((0.07..=0.14).contains(&charity), "charity {charity}");
    assert!((0.03..=0.08).contains(&red), "red crescent {red}");
    // Relief and welfare both pay some female heads a pension: double coverage of one kind.
    let both = listed(pop, "relief_committee")
        .intersection(&listed(pop, "welfare"))
        .filter(|p| heads.contains(p))
        .count();
    assert!(
        both as f64 > heads.len() as f64 * 0.04,
        "{both} double-covered"
    );
    assert_eq!(
        pop.list("relief_committee").unwrap().support_kind,
        pop.list("welfare").unwrap().support_kind
    );
    // Row counts for 100,000 people.
    for (name, lo, hi) in [
        ("relief_committee", 6_000, 11_000),
        ("welfare", 1_800, 3_500),
        ("charity", 700, 1_400),
        ("red_crescent", 300, 700),
        ("survey_female_heads", 400, 1_000),
    ] {
        let n = pop.list(name).unwrap().rows.len();
        assert!((lo..=hi).contains(&n), "{name}: {n} rows");
    }
}

#[test]
fn survey_lists_female_heads_of_the_surveyed_counties_some_in_no_list() {
    let pop = pop();
    let survey = pop.list("survey_female_heads").unwrap();
    assert_eq!(survey.list_kind, ListKind::Survey);
    assert_eq!(pop.survey_counties.len(), 3);
    let covered: HashSet<usize> = pop
        .lists
        .iter()
        .filter(|l| l.list_kind == ListKind::Programme)
        .flat_map(|l| l.rows.iter().filter_map(|r| r.person))
        .collect();
    let mut uncovered = 0;
    let mut total = 0;
    for p in survey.rows.iter().filter_map(|r| r.person) {
        let h = pop.household_of(p);
        assert!(h.female_head && h.head() == p);
        assert!(pop.survey_counties.contains(&h.county));
        total += 1;
        uncovered += usize::from(!covered.contains(&p));
    }
    assert!(total > 300);
    assert!(uncovered * 5 > total, "{uncovered} of {total} uncovered");
    // Counties by name work too.
    let by_name = SynthOptions {
        people: 2_000,
        survey_counties: vec!["تهران".into(), "Isfahan".into(), "nowhere".into()],
        ..SynthOptions::default()
    };
    let p = generate(&by_name);
    assert_eq!(p.survey_counties.len(), 2);
}

#[test]
fn list_rows_parse_with_the_text_parsers_and_invalid_rows_fail() {
    let pop = pop();
    for l in &pop.lists {
        let valid: Vec<&ListRow> = l.rows.iter().filter(|r| !r.invalid).collect();
        let invalid: Vec<&ListRow> = l.rows.iter().filter(|r| r.invalid).collect();
        assert!(!invalid.is_empty(), "{} has no invalid rows", l.name);
        let n = valid.len() as f64;
        let mut code_ok = 0;
        let mut code_right = 0;
        let mut birth_ok = 0;
        let mut phone_ok = 0;
        for r in &valid {
            let truth = &pop.persons[r.person.unwrap()];
            if let Ok(parsed) = NationalCode::parse(&r.national_code) {
                code_ok += 1;
                code_right += usize::from(parsed.code.as_str() == truth.national_code);
            }
            if let Ok(d) = parse_date(&r.birth_date) {
                birth_ok += 1;
                assert!(
                    d.jalali_year()
                        .is_none_or(|y| (y - truth.birth_date.year).abs() <= 1),
                    "{}: {:?} for {}",
                    l.name,
                    r.birth_date,
                    truth.birth_date
                );
            }
            phone_ok += usize::from(parse_mobile(&r.phone).is_ok());
        }
        let (code_ok, birth_ok, phone_ok) =
            (code_ok as f64 / n, birth_ok as f64 / n, phone_ok as f64 / n);
        assert!(code_ok > 0.82, "{}: codes {code_ok}", l.name);
        assert_eq!(
            code_right as f64 / n,
            code_ok,
            "{}: a parsed code is someone else's",
            l.name
        );
        assert!(birth_ok > 0.75, "{}: dates {birth_ok}", l.name);
        assert!(phone_ok > 0.6, "{}: phones {phone_ok}", l.name);
        // Noise is there: not every row is clean.
        assert!(code_ok < 1.0, "{}: no code noise", l.name);
        for r in invalid {
            assert!(NationalCode::parse(&r.national_code).is_err());
            assert!(r.first_name.is_empty() && r.last_name.is_empty() && r.full_name.is_empty());
            assert!(r.person.is_none());
        }
    }
}

#[test]
fn lists_carry_the_promised_kinds_of_noise() {
    let pop = pop();
    let all: Vec<(&List, &ListRow)> = pop
        .lists
        .iter()
        .flat_map(|l| l.rows.iter().map(move |r| (l, r)))
        .filter(|(_, r)| !r.invalid)
        .collect();
    let any = |f: &dyn Fn(&List, &ListRow) -> bool| all.iter().any(|(l, r)| f(l, r));
    let names = |r: &ListRow| format!("{} {} {}", r.first_name, r.last_name, r.full_name);
    assert!(
        any(&|_, r| names(r).contains('ي') || names(r).contains('ك')),
        "Arabic letters"
    );
    assert!(
        any(&|_, r| r.national_code.contains('۰') || r.birth_date.contains('۱')),
        "Persian digits"
    );
    assert!(
        any(&|_, r| r.birth_date.contains('١')),
        "Arabic-Indic digits"
    );
    assert!(
        any(&|_, r| r.first_name.starts_with("سیده ") || r.full_name.starts_with("سیده ")),
        "سیده"
    );
    assert!(any(&|_, r| r.first_name.starts_with("خانم ")), "خانم");
    assert!(
        any(&|_, r| r.first_name.contains("محمد ") || r.first_name.contains("عبد ")),
        "spaced compound"
    );
    assert!(any(&|_, r| r.national_code.is_empty()), "missing code");
    assert!(
        any(&|_, r| (8..=9).contains(&r.national_code.len())
            && r.national_code.bytes().all(|b| b.is_ascii_digit())),
        "lost zeros"
    );
    assert!(any(&|_, r| r.code_as_number), "code as number in XLSX");
    assert!(
        any(&|_, r| r.birth_date.len() == 8 && r.birth_date.bytes().all(|b| b.is_ascii_digit())),
        "compact date"
    );
    assert!(any(&|_, r| r.birth_date.len() == 4), "year only");
    assert!(
        any(&|_, r| r.birth_date.starts_with("19") || r.birth_date.starts_with("20")),
        "Gregorian date"
    );
    assert!(any(&|_, r| r.phone.is_empty()), "missing phone");
    assert!(
        any(&|l, r| l.full_name_only && !r.full_name.is_empty()),
        "full names"
    );
    // First and last names swapped: a row whose last name is the person's first name.
    assert!(
        any(&|_, r| r.person.is_some_and(|p| {
            let p = &pop.persons[p];
            r.last_name == p.first_name && r.first_name == p.last_name
        })),
        "swapped names"
    );
    // The same person twice in one list.
    let dup = pop.lists.iter().any(|l| {
        let mut seen = HashSet::new();
        l.rows
            .iter()
            .filter_map(|r| r.person)
            .any(|p| !seen.insert(p))
    });
    assert!(dup, "duplicates within a list");
}

#[test]
fn without_noise_the_lists_are_clean() {
    let pop = generate(&SynthOptions {
        noise: 0.0,
        ..small(3)
    });
    for l in &pop.lists {
        for r in &l.rows {
            assert!(!r.invalid);
            let p = &pop.persons[r.person.unwrap()];
            assert_eq!(r.national_code, p.national_code);
            assert_eq!(
                parse_date(&r.birth_date)
                    .unwrap()
                    .jalali()
                    .unwrap()
                    .to_string(),
                p.birth_date.to_string()
            );
        }
    }
}

#[test]
fn headers_are_canonical_or_persian() {
    let pop = pop();
    let relief = pop.list("relief_committee").unwrap();
    assert_eq!(
        relief.headers()[..11].join(","),
        "source_id,national_code,first_name,last_name,father_name,birth_date,gender,phone,province,county,address"
    );
    let welfare = pop.list("welfare").unwrap();
    assert_eq!(welfare.header_style, HeaderStyle::Persian);
    assert!(welfare.headers().contains(&"کد ملی".to_owned()));
    assert!(welfare.headers().contains(&"نام خانوادگی".to_owned()));
    let charity = pop.list("charity").unwrap();
    assert_eq!(charity.format, FileFormat::Xlsx);
    assert!(charity.headers().contains(&"نام و نام خانوادگی".to_owned()));
    for l in &pop.lists {
        assert_eq!(l.headers().len(), l.cells(&l.rows[0]).len());
    }
}

#[test]
fn tiny_populations_work() {
    for people in [0, 1, 2, 37, 500] {
        let pop = generate(&SynthOptions {
            people,
            ..small(11)
        });
        assert_eq!(pop.persons.len(), people);
        assert_eq!(
            pop.households
                .iter()
                .map(|h| h.members.len())
                .sum::<usize>(),
            people
        );
        for l in &pop.lists {
            l.to_bytes().unwrap();
        }
    }
}

/// Issue 18: with the household patterns the relief list writes the head's code on dependants'
/// rows with a Persian relation column, and the charity writes full names in either order,
/// mostly without a code; without them (the default) neither happens.
#[test]
fn household_patterns_write_dependants_under_the_heads_code_and_full_names_both_ways() {
    let hard = generate(&SynthOptions {
        household_patterns: true,
        ..small(21)
    });
    let relief = hard.list("relief_committee").unwrap();
    let rel = relief
        .headers()
        .iter()
        .position(|h| h == "نسبت با سرپرست")
        .unwrap();
    let mut under_head = 0;
    for r in relief.rows.iter().filter(|r| !r.invalid) {
        let p = &hard.persons[r.person.unwrap()];
        let head = &hard.persons[hard.households[p.household].head()];
        let cells = relief.cells(r);
        assert!(
            hamdeli_link::Relation::parse(cells[rel]).is_some(),
            "{}",
            cells[rel]
        );
        if p.national_code != head.national_code
            && hamdeli_text::fold_digits(&r.national_code) == head.national_code
        {
            under_head += 1;
        }
    }
    assert!(
        under_head > 50,
        "{under_head} dependants under the head's code"
    );
    let charity = hard.list("charity").unwrap();
    let rows: Vec<&ListRow> = charity.rows.iter().filter(|r| !r.invalid).collect();
    let coded = rows.iter().filter(|r| !r.national_code.is_empty()).count();
    assert!(coded * 2 < rows.len(), "most charity rows have no code");
    let surname_first = rows
        .iter()
        .filter(|r| {
            let p = &hard.persons[r.person.unwrap()];
            r.full_name.contains('،') || r.full_name.starts_with(p.last_name.as_str())
        })
        .count();
    assert!(
        surname_first * 10 > rows.len(),
        "{surname_first} of {}",
        rows.len()
    );

    let classic = generate(&small(21));
    let relief = classic.list("relief_committee").unwrap();
    assert!(relief.headers().iter().any(|h| h == "relation"));
    for r in relief
        .rows
        .iter()
        .filter(|r| !r.invalid && !r.national_code.is_empty())
    {
        let p = &classic.persons[r.person.unwrap()];
        let head = &classic.persons[classic.households[p.household].head()];
        if p.national_code != head.national_code {
            assert_ne!(
                hamdeli_text::fold_digits(&r.national_code),
                head.national_code
            );
        }
    }
}
