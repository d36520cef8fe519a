//! Reading and writing the three cookies: session, CSRF seed and language.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION: &str = "hamdeli_session";
pub const CSRF: &str = "hamdeli_csrf";
pub const LANG: &str = "hamdeli_lang";

pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: always HttpOnly, SameSite=Lax, path `/`.
pub fn set(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_cookies_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; hamdeli_lang=en ; b=2"),
        );
        assert_eq!(get(&h, LANG).as_deref(), Some("en"));
        assert_eq!(get(&h, SESSION), None);
    }

    #[test]
    fn cookies_are_http_only_and_same_site() {
        let c = set(SESSION, "t", Some(60), true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
    }
}
