//! The closed vocabularies of the capability (codes stored in the database; the catalogs name
//! them `network-<kind>-<code>`).

/// A volunteer's specialty (DESIGN §3 F).
pub const SPECIALTIES: [&str; 4] = [
    "counsellor",
    "social_worker",
    "psychologist",
    "clinical_sociologist",
];

/// Languages a volunteer speaks and a case asks for.
pub const LANGUAGES: [&str; 8] = ["fa", "az", "ku", "lur", "ar", "bal", "tk", "en"];

/// A capable woman's field of work.
pub const FIELDS: [&str; 8] = [
    "handicrafts",
    "agriculture",
    "education",
    "health",
    "technology",
    "business",
    "arts",
    "social",
];

/// How urgent a case is, least first.
pub const URGENCIES: [&str; 4] = ["low", "normal", "high", "critical"];

/// How a case ends.
pub const OUTCOMES: [&str; 4] = ["resolved", "referred", "withdrawn", "unreachable"];

/// The states of a case.
pub const CASE_STATES: [&str; 4] = ["open", "assigned", "accepted", "closed"];

/// The states of a volunteer: signed up, checked by the provincial office, refused, or
/// suspended (by the licence sweep or the office).
pub const VOLUNTEER_STATES: [&str; 4] = ["pending", "verified", "rejected", "suspended"];

pub fn is_specialty(s: &str) -> bool {
    SPECIALTIES.contains(&s)
}
pub fn is_language(s: &str) -> bool {
    LANGUAGES.contains(&s)
}
pub fn is_field(s: &str) -> bool {
    FIELDS.contains(&s)
}
pub fn is_urgency(s: &str) -> bool {
    URGENCIES.contains(&s)
}
pub fn is_outcome(s: &str) -> bool {
    OUTCOMES.contains(&s)
}

/// A gender code: `f` or `m`.
pub fn is_gender(s: &str) -> bool {
    matches!(s, "f" | "m")
}

/// The weight of an urgency (0 for an unknown code).
pub fn urgency_rank(s: &str) -> i64 {
    URGENCIES
        .iter()
        .position(|u| *u == s)
        .map_or(0, |i| i as i64)
}

/// A comma list of codes, each checked, deduplicated and in the vocabulary's order; `None`
/// when one is unknown.
pub fn code_list(given: &[String], vocabulary: &[&str]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for g in given {
        let g = g.trim();
        if g.is_empty() {
            continue;
        }
        if !vocabulary.contains(&g) {
            return None;
        }
        if !out.iter().any(|o: &String| o == g) {
            out.push(g.to_owned());
        }
    }
    out.sort_by_key(|c| vocabulary.iter().position(|v| v == c));
    Some(out)
}

/// Codes as stored: `,fa,az,` (so `LIKE '%,fa,%'` finds one).
pub fn stored_list(codes: &[String]) -> String {
    if codes.is_empty() {
        String::new()
    } else {
        format!(",{},", codes.join(","))
    }
}

/// A stored list back into codes.
pub fn parse_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lists_are_checked_deduplicated_and_ordered() {
        let given = vec!["az".to_owned(), "fa".into(), "az".into(), " ".into()];
        assert_eq!(
            code_list(&given, &LANGUAGES),
            Some(vec!["fa".to_owned(), "az".into()])
        );
        assert_eq!(code_list(&["xx".to_owned()], &LANGUAGES), None);
        let stored = stored_list(&["fa".to_owned(), "az".into()]);
        assert_eq!(stored, ",fa,az,");
        assert_eq!(parse_list(&stored), vec!["fa", "az"]);
        assert_eq!(stored_list(&[]), "");
    }

    #[test]
    fn urgency_ranks_in_order() {
        assert!(urgency_rank("critical") > urgency_rank("high"));
        assert_eq!(urgency_rank("low"), 0);
        assert_eq!(urgency_rank("nonsense"), 0);
    }
}

/// The search key of a skill or a name: normalised Persian text (one spelling of ی, ک, digits,
/// spaces), lower case.
pub fn text_key(s: &str) -> String {
    hamdeli_text::normalize_text(s)
}

/// Skills typed as one text (comma, Persian comma or new line between them): each trimmed,
/// empty ones dropped, at most `max`.
pub fn split_skills(s: &str, max: usize) -> Vec<String> {
    s.split([',', '،', '\n', ';', '؛'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(max)
        .map(String::from)
        .collect()
}

/// The stored search key of skills: `|key|key|`.
pub fn skills_key(skills: &[String]) -> String {
    let keys: Vec<String> = skills.iter().map(|s| text_key(s)).collect();
    format!("|{}|", keys.join("|"))
}

/// A mobile number in any accepted form (`+989…`, Persian digits …) as `09…`.
pub fn mobile(s: &str) -> Option<String> {
    hamdeli_text::phone::parse_mobile(s)
        .ok()
        .map(|m| m.as_str().to_owned())
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn skills_split_and_key_in_one_spelling() {
        let s = split_skills("خیاطی، گلدوزی ,  \nقالی‌بافی", 10);
        assert_eq!(s, vec!["خیاطی", "گلدوزی", "قالی‌بافی"]);
        assert_eq!(split_skills("a,b,c", 2).len(), 2);
        let key = skills_key(&["خياطي".to_owned()]);
        assert_eq!(key, format!("|{}|", text_key("خیاطی")));
        assert_eq!(mobile("+98 912 345 6789").as_deref(), Some("09123456789"));
        assert_eq!(mobile("۰۹۱۲۳۴۵۶۷۸۹").as_deref(), Some("09123456789"));
        assert_eq!(mobile("12345"), None);
    }
}
