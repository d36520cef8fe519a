//! Data sets the national office defines: their data elements, disaggregations and validation
//! rules, what a filled form holds, and the warnings against a reporter's own history.
//!
//! A definition is written as text, one line each, so an office edits it in a plain form:
//!
//! ```text
//! # code | name in Persian | name in English | kind | disaggregation | required | min | max
//! masks | ماسک تولیدشده | Masks produced | number | urban_rural | required | 0 | 10000000
//! rule: women_employed <= women_trained
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Limits on a definition, so a form stays a form.
pub const MAX_ELEMENTS: usize = 80;
pub const MAX_RULES: usize = 40;
pub const MAX_TEXT: usize = 500;
const MAX_NAME: usize = 120;
/// The largest number a form accepts (rials of money included): far beyond any real figure.
pub const MAX_NUMBER: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    /// A whole number (people, pieces, sessions).
    Number,
    /// Rials, entered and shown in tomans.
    Money,
    /// 1 yes, 0 no.
    YesNo,
    Text,
}

impl ElementKind {
    pub const ALL: [ElementKind; 4] = [
        ElementKind::Number,
        ElementKind::Money,
        ElementKind::YesNo,
        ElementKind::Text,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ElementKind::Number => "number",
            ElementKind::Money => "money",
            ElementKind::YesNo => "yes_no",
            ElementKind::Text => "text",
        }
    }
    pub fn parse(s: &str) -> Option<ElementKind> {
        ElementKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Numbers add up across places and periods (text and yes/no answers do not mean a sum,
    /// but yes/no counts the places that said yes).
    pub fn is_numeric(self) -> bool {
        !matches!(self, ElementKind::Text)
    }
}

/// How an element's value is broken down; the total is always kept too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disaggregation {
    None,
    UrbanRural,
}

impl Disaggregation {
    pub fn as_str(self) -> &'static str {
        match self {
            Disaggregation::None => "none",
            Disaggregation::UrbanRural => "urban_rural",
        }
    }
    pub fn parse(s: &str) -> Option<Disaggregation> {
        match s {
            "" | "none" | "-" => Some(Disaggregation::None),
            "urban_rural" => Some(Disaggregation::UrbanRural),
            _ => None,
        }
    }
    /// The parts a value is entered in: `[""]` (the total alone) or `["urban", "rural"]`.
    pub fn parts(self) -> &'static [&'static str] {
        match self {
            Disaggregation::None => &[""],
            Disaggregation::UrbanRural => &["urban", "rural"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataElement {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    pub kind: ElementKind,
    pub disaggregation: Disaggregation,
    pub required: bool,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Le => "<=",
            Comparison::Lt => "<",
            Comparison::Ge => ">=",
            Comparison::Gt => ">",
            Comparison::Eq => "=",
        }
    }
    fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Comparison::Le => a <= b,
            Comparison::Lt => a < b,
            Comparison::Ge => a >= b,
            Comparison::Gt => a > b,
            Comparison::Eq => a == b,
        }
    }
}

/// `left op right` between two numeric elements' totals (e.g. women employed ≤ women trained).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub left: String,
    pub op: Comparison,
    pub right: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Definition {
    pub elements: Vec<DataElement>,
    pub rules: Vec<Rule>,
}

/// What is wrong with a definition's text, by line (1-based), as a catalog message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub line: usize,
    pub code: &'static str,
}

fn valid_code(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

fn parse_bound(s: &str) -> Result<Option<i64>, ()> {
    let s = hamdeli_text::digits::fold_digits(s.trim());
    if s.is_empty() || s == "-" {
        return Ok(None);
    }
    s.parse::<i64>()
        .ok()
        .filter(|n| n.abs() <= MAX_NUMBER)
        .map(Some)
        .ok_or(())
}

impl Definition {
    /// Reads a definition's text; every problem is reported with its line.
    pub fn parse(text: &str) -> Result<Definition, Vec<DefinitionError>> {
        let mut def = Definition::default();
        let mut errors = vec![];
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let err = |code| DefinitionError { line, code };
            if let Some(rule) = l.strip_prefix("rule:") {
                match parse_rule(rule) {
                    Some(r) => def.rules.push(r),
                    None => errors.push(err("reports-def-rule-syntax")),
                }
                continue;
            }
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            if cols.len() < 4 || cols.len() > 8 {
                errors.push(err("reports-def-columns"));
                continue;
            }
            let code = cols[0].to_ascii_lowercase();
            if !valid_code(&code) {
                errors.push(err("reports-def-code"));
                continue;
            }
            let name_fa = hamdeli_text::normalize::normalize_text(cols[1]);
            if name_fa.is_empty() || name_fa.chars().count() > MAX_NAME {
                errors.push(err("reports-def-name"));
                continue;
            }
            let Some(kind) = ElementKind::parse(cols[3]) else {
                errors.push(err("reports-def-kind"));
                continue;
            };
            let Some(disaggregation) = Disaggregation::parse(cols.get(4).copied().unwrap_or(""))
            else {
                errors.push(err("reports-def-disaggregation"));
                continue;
            };
            let required = match cols.get(5).copied().unwrap_or("") {
                "required" | "yes" => true,
                "" | "optional" | "no" | "-" => false,
                _ => {
                    errors.push(err("reports-def-required"));
                    continue;
                }
            };
            let (Ok(min), Ok(max)) = (
                parse_bound(cols.get(6).copied().unwrap_or("")),
                parse_bound(cols.get(7).copied().unwrap_or("")),
            ) else {
                errors.push(err("reports-def-bounds"));
                continue;
            };
            if matches!((min, max), (Some(a), Some(b)) if a > b) {
                errors.push(err("reports-def-bounds"));
                continue;
            }
            if def.elements.iter().any(|e| e.code == code) {
                errors.push(err("reports-def-duplicate"));
                continue;
            }
            def.elements.push(DataElement {
                code,
                name_fa,
                name_en: cols[2].chars().take(MAX_NAME).collect(),
                kind,
                disaggregation: if kind.is_numeric() && kind != ElementKind::YesNo {
                    disaggregation
                } else {
                    Disaggregation::None
                },
                required,
                min,
                max,
            });
        }
        if def.elements.is_empty() && errors.is_empty() {
            errors.push(DefinitionError {
                line: 0,
                code: "reports-def-empty",
            });
        }
        if def.elements.len() > MAX_ELEMENTS || def.rules.len() > MAX_RULES {
            errors.push(DefinitionError {
                line: 0,
                code: "reports-def-too-many",
            });
        }
        for r in &def.rules {
            let numeric = |c: &str| {
                def.element(c)
                    .is_some_and(|e| e.kind.is_numeric() && e.kind != ElementKind::YesNo)
            };
            if !numeric(&r.left) || !numeric(&r.right) || r.left == r.right {
                errors.push(DefinitionError {
                    line: 0,
                    code: "reports-def-rule-element",
                });
            }
        }
        if errors.is_empty() {
            Ok(def)
        } else {
            Err(errors)
        }
    }

    /// The text [`Definition::parse`] reads back into this definition.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for e in &self.elements {
            let bound = |b: Option<i64>| b.map(|n| n.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "{} | {} | {} | {} | {} | {} | {} | {}\n",
                e.code,
                e.name_fa,
                e.name_en,
                e.kind.as_str(),
                e.disaggregation.as_str(),
                if e.required { "required" } else { "optional" },
                bound(e.min),
                bound(e.max)
            ));
        }
        for r in &self.rules {
            out.push_str(&format!("rule: {} {} {}\n", r.left, r.op.symbol(), r.right));
        }
        out
    }

    pub fn element(&self, code: &str) -> Option<&DataElement> {
        self.elements.iter().find(|e| e.code == code)
    }
}

fn parse_rule(s: &str) -> Option<Rule> {
    let s = s.trim();
    for (sym, op) in [
        ("<=", Comparison::Le),
        (">=", Comparison::Ge),
        ("<", Comparison::Lt),
        (">", Comparison::Gt),
        ("=", Comparison::Eq),
    ] {
        if let Some((l, r)) = s.split_once(sym) {
            let (l, r) = (l.trim().to_ascii_lowercase(), r.trim().to_ascii_lowercase());
            if valid_code(&l) && valid_code(&r) {
                return Some(Rule {
                    left: l,
                    op,
                    right: r,
                });
            }
            return None;
        }
    }
    None
}

/// A stored value: a number (rials for money, 0/1 for yes/no) or a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(i64),
    Text(String),
}

impl Value {
    pub fn number(&self) -> Option<i64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Text(_) => None,
        }
    }
}

/// A filled form: (element code, part) → value; part `""` is the total, `urban`/`rural` the
/// parts of a disaggregated element (whose total is their sum).
pub type Values = BTreeMap<(String, String), Value>;

/// What is wrong with one cell of a form, as a catalog message id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub element: String,
    pub part: String,
    pub code: &'static str,
}

/// The form's field name of an element's part: `masks`, `masks.urban`.
pub fn field_name(code: &str, part: &str) -> String {
    if part.is_empty() {
        code.to_owned()
    } else {
        format!("{code}.{part}")
    }
}

/// Reads a number as typed: any digits, thousands separators (`,` `٬` `،` and spaces) ignored,
/// a leading minus allowed.
pub fn parse_number(s: &str) -> Option<i64> {
    let folded: String = hamdeli_text::digits::fold_digits(s.trim())
        .chars()
        .filter(|c| !matches!(c, ',' | '٬' | '،' | ' ' | '\u{200c}' | '\u{a0}'))
        .map(|c| if c == '−' { '-' } else { c })
        .collect();
    if folded.is_empty() || folded.len() > 20 {
        return None;
    }
    folded.parse::<i64>().ok()
}

fn parse_yes_no(s: &str) -> Option<i64> {
    match hamdeli_text::digits::fold_digits(s.trim())
        .to_lowercase()
        .as_str()
    {
        "1" | "yes" | "y" | "true" | "بله" | "بلی" | "آری" => Some(1),
        "0" | "no" | "n" | "false" | "خیر" | "نه" => Some(0),
        _ => None,
    }
}

/// Reads what a form or a spreadsheet row gave (field name → text, money in tomans), checks each
/// cell, the required fields, the bounds and the rules, and returns the values to store with
/// every problem found. Blank optional cells are left out.
pub fn read_form(def: &Definition, raw: &BTreeMap<String, String>) -> (Values, Vec<Problem>) {
    let mut values = Values::new();
    let mut problems = vec![];
    for e in &def.elements {
        let problem = |part: &str, code| Problem {
            element: e.code.clone(),
            part: part.to_owned(),
            code,
        };
        let mut total: Option<i64> = None;
        let mut any = false;
        for part in e.disaggregation.parts() {
            let text = raw
                .get(&field_name(&e.code, part))
                .map(|s| s.trim())
                .unwrap_or("");
            if text.is_empty() {
                continue;
            }
            any = true;
            let parsed = match e.kind {
                ElementKind::Text => {
                    if text.chars().count() > MAX_TEXT {
                        problems.push(problem(part, "reports-problem-too-long"));
                    } else {
                        values.insert(
                            (e.code.clone(), part.to_string()),
                            Value::Text(text.to_owned()),
                        );
                    }
                    continue;
                }
                ElementKind::YesNo => parse_yes_no(text).ok_or("reports-problem-yes-no"),
                ElementKind::Number => parse_number(text).ok_or("reports-problem-not-number"),
                ElementKind::Money => parse_number(text)
                    .ok_or("reports-problem-not-number")
                    .and_then(|t| t.checked_mul(10).ok_or("reports-problem-too-large")),
            };
            let n = match parsed {
                Ok(n) if n.abs() > MAX_NUMBER => {
                    problems.push(problem(part, "reports-problem-too-large"));
                    continue;
                }
                Ok(n) => n,
                Err(code) => {
                    problems.push(problem(part, code));
                    continue;
                }
            };
            // Bounds are in the unit the office enters (tomans for money).
            let shown = if e.kind == ElementKind::Money {
                n / 10
            } else {
                n
            };
            if e.min.is_some_and(|min| shown < min) {
                problems.push(problem(part, "reports-problem-below-min"));
            } else if e.max.is_some_and(|max| shown > max) {
                problems.push(problem(part, "reports-problem-above-max"));
            }
            values.insert((e.code.clone(), part.to_string()), Value::Number(n));
            total = Some(total.unwrap_or(0).saturating_add(n));
        }
        if let Some(t) = total.filter(|_| e.disaggregation != Disaggregation::None) {
            values.insert((e.code.clone(), String::new()), Value::Number(t));
        }
        if e.required && !any {
            problems.push(problem("", "reports-problem-required"));
        }
    }
    for r in &def.rules {
        let get = |c: &str| {
            values
                .get(&(c.to_owned(), String::new()))
                .and_then(Value::number)
        };
        if let (Some(a), Some(b)) = (get(&r.left), get(&r.right))
            && !r.op.holds(a, b)
        {
            problems.push(Problem {
                element: r.left.clone(),
                part: String::new(),
                code: "reports-problem-rule",
            });
        }
    }
    (values, problems)
}

/// The text a stored value shows in a form again (money back in tomans).
pub fn form_text(def: &Definition, values: &Values) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for ((code, part), v) in values {
        let Some(e) = def.element(code) else { continue };
        if !part.is_empty() || e.disaggregation == Disaggregation::None {
            let text = match (v, e.kind) {
                (Value::Number(n), ElementKind::Money) => (n / 10).to_string(),
                (Value::Number(n), _) => n.to_string(),
                (Value::Text(t), _) => t.clone(),
            };
            out.insert(field_name(code, part), text);
        }
    }
    out
}

/// A value far from the reporter's own history: worth a second look, not an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlier {
    pub element: String,
    pub value: i64,
    /// The median of the history it was compared with.
    pub median: i64,
    pub low: i64,
    pub high: i64,
}

/// The fewest earlier values an element needs before its new value is judged.
pub const OUTLIER_MIN_HISTORY: usize = 3;

/// Numeric totals far from the same reporter's earlier periods: outside the median ± the larger
/// of 3 × 1.4826 × MAD (the robust standard deviation), half the median, and 1.
pub fn outliers(
    def: &Definition,
    values: &Values,
    history: &BTreeMap<String, Vec<i64>>,
) -> Vec<Outlier> {
    let mut out = vec![];
    for e in def
        .elements
        .iter()
        .filter(|e| matches!(e.kind, ElementKind::Number | ElementKind::Money))
    {
        let Some(v) = values
            .get(&(e.code.clone(), String::new()))
            .and_then(Value::number)
        else {
            continue;
        };
        let Some(past) = history.get(&e.code) else {
            continue;
        };
        if past.len() < OUTLIER_MIN_HISTORY {
            continue;
        }
        let median = median(past);
        let deviations: Vec<i64> = past.iter().map(|x| (x - median).abs()).collect();
        let mad = median_f(&deviations);
        let spread = (3.0 * 1.4826 * mad)
            .max(0.5 * (median as f64).abs())
            .max(1.0);
        let (low, high) = (
            (median as f64 - spread).floor() as i64,
            (median as f64 + spread).ceil() as i64,
        );
        if v < low || v > high {
            out.push(Outlier {
                element: e.code.clone(),
                value: v,
                median,
                low,
                high,
            });
        }
    }
    out
}

fn median(xs: &[i64]) -> i64 {
    median_f(xs).round() as i64
}

fn median_f(xs: &[i64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEF: &str = "\
# a comment
women_trained | زنان آموزش‌دیده | Women trained | number | urban_rural | required | 0 | 100000
women_employed | زنان شاغل‌شده | Women employed | number | none | required | 0
budget | اعتبار | Budget | money | none | optional
hotline | خط مشاوره فعال است | Hotline active | yes_no
note | توضیح | Note | text
rule: women_employed <= women_trained
";

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_definition_round_trips_through_its_text() {
        let def = Definition::parse(DEF).unwrap();
        assert_eq!(def.elements.len(), 5);
        assert_eq!(def.rules.len(), 1);
        assert_eq!(Definition::parse(&def.to_text()).unwrap(), def);
    }

    #[test]
    fn definition_errors_name_their_lines() {
        let errs =
            Definition::parse("Bad Code | x | y | number\nok_one | ن | n | colour\n").unwrap_err();
        assert_eq!(
            errs,
            [
                DefinitionError {
                    line: 1,
                    code: "reports-def-code"
                },
                DefinitionError {
                    line: 2,
                    code: "reports-def-kind"
                }
            ]
        );
        let errs = Definition::parse("aa | ن | n | number\naa | ن | n | number\n").unwrap_err();
        assert_eq!(errs[0].code, "reports-def-duplicate");
        let errs = Definition::parse("aa | ن | n | number\nrule: aa <= zz\n").unwrap_err();
        assert_eq!(errs[0].code, "reports-def-rule-element");
        assert_eq!(
            Definition::parse("# nothing\n").unwrap_err()[0].code,
            "reports-def-empty"
        );
    }

    #[test]
    fn a_form_is_read_with_totals_money_in_rials_and_persian_digits() {
        let def = Definition::parse(DEF).unwrap();
        let (values, problems) = read_form(
            &def,
            &raw(&[
                ("women_trained.urban", "۱۲۰"),
                ("women_trained.rural", "80"),
                ("women_employed", "150"),
                ("budget", "۱٬۲۰۰"),
                ("hotline", "بله"),
                ("note", "خوب"),
            ]),
        );
        assert!(problems.is_empty(), "{problems:?}");
        let get = |c: &str, p: &str| values.get(&(c.to_owned(), p.to_owned())).cloned();
        assert_eq!(get("women_trained", ""), Some(Value::Number(200)));
        assert_eq!(get("women_trained", "urban"), Some(Value::Number(120)));
        assert_eq!(get("budget", ""), Some(Value::Number(12_000)));
        assert_eq!(get("hotline", ""), Some(Value::Number(1)));
        let shown = form_text(&def, &values);
        assert_eq!(shown.get("budget").map(String::as_str), Some("1200"));
        assert_eq!(
            shown.get("women_trained.urban").map(String::as_str),
            Some("120")
        );
        assert!(!shown.contains_key("women_trained"));
    }

    #[test]
    fn rules_bounds_and_required_fields_are_reported() {
        let def = Definition::parse(DEF).unwrap();
        let (_, problems) = read_form(
            &def,
            &raw(&[
                ("women_trained.urban", "10"),
                ("women_employed", "11"),
                ("budget", "abc"),
                ("hotline", "maybe"),
            ]),
        );
        let codes: Vec<_> = problems
            .iter()
            .map(|p| (p.element.as_str(), p.code))
            .collect();
        assert!(codes.contains(&("budget", "reports-problem-not-number")));
        assert!(codes.contains(&("hotline", "reports-problem-yes-no")));
        assert!(codes.contains(&("women_employed", "reports-problem-rule")));
        let (_, problems) = read_form(&def, &raw(&[("women_trained.urban", "-1")]));
        let codes: Vec<_> = problems
            .iter()
            .map(|p| (p.element.as_str(), p.code))
            .collect();
        assert!(codes.contains(&("women_trained", "reports-problem-below-min")));
        assert!(codes.contains(&("women_employed", "reports-problem-required")));
        let (_, problems) = read_form(&def, &raw(&[("budget", "99999999999999999999")]));
        assert!(
            problems
                .iter()
                .any(|p| p.code == "reports-problem-not-number")
        );
    }

    #[test]
    fn outliers_are_judged_against_the_own_history() {
        let def = Definition::parse(DEF).unwrap();
        let history: BTreeMap<String, Vec<i64>> =
            [("women_employed".to_owned(), vec![100, 110, 95, 105])].into();
        let mut values = Values::new();
        values.insert(("women_employed".into(), "".into()), Value::Number(108));
        assert!(outliers(&def, &values, &history).is_empty());
        values.insert(("women_employed".into(), "".into()), Value::Number(900));
        let o = outliers(&def, &values, &history);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].median, 103);
        assert!(o[0].high < 900);
        // Too little history: no judgement.
        let short: BTreeMap<String, Vec<i64>> = [("women_employed".to_owned(), vec![1, 2])].into();
        assert!(outliers(&def, &values, &short).is_empty());
    }
}
