//! Static files carried in the binary: no page loads anything from another host.
//!
//! Every file is served at a fingerprinted path that carries a hash of its bytes
//! (`/assets/app.3f2a9c1b.css`), computed once at start-up, and cached by browsers for a year
//! (`immutable`); templates name files through [`asset_url`]. The stylesheet's reference to the
//! font is rewritten to the font's fingerprinted path before the stylesheet itself is hashed.
//! The old unhashed paths under `/static/` keep working with a short cache lifetime.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::AppState;

/// Cache lifetime of a fingerprinted file: its path changes whenever its bytes do.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache lifetime of a file at its old unhashed path.
const UNHASHED: &str = "public, max-age=3600";

const SOURCES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
    (
        "vendor/htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/htmx/htmx.min.js"),
    ),
    (
        "fonts/Vazirmatn-Variable.woff2",
        "font/woff2",
        include_bytes!("../assets/fonts/Vazirmatn-Variable.woff2"),
    ),
    (
        "fonts/OFL.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/fonts/OFL.txt"),
    ),
    (
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "vendor/swagger-ui/swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/vendor/swagger-ui/swagger-ui.css"),
    ),
    (
        "vendor/swagger-ui/init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/api_docs_init.js"),
    ),
];

/// Files whose text names another file by its unhashed `/static/` path: (file, referenced file).
const REFERENCES: &[(&str, &str)] = &[("app.css", "fonts/Vazirmatn-Variable.woff2")];

pub struct Asset {
    /// The unhashed name, e.g. `app.css`.
    pub name: &'static str,
    /// The fingerprinted path, e.g. `/assets/app.3f2a9c1b.css`.
    pub url: String,
    pub mime: &'static str,
    pub body: Vec<u8>,
}

/// The first 8 hex digits of the SHA-256 of the bytes.
fn fingerprint(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..4])
}

/// `dir/name.ext` with the hash before the last extension: `dir/name.HASH.ext`.
fn hashed_url(name: &str, hash: &str) -> String {
    let (dir, file) = match name.rsplit_once('/') {
        Some((d, f)) => (format!("{d}/"), f),
        None => (String::new(), name),
    };
    match file.rsplit_once('.') {
        Some((stem, ext)) => format!("/assets/{dir}{stem}.{hash}.{ext}"),
        None => format!("/assets/{dir}{file}.{hash}"),
    }
}

/// Every file with its fingerprinted path, made once.
pub static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    let mut assets: Vec<Asset> = SOURCES
        .iter()
        .map(|(name, mime, bytes)| Asset {
            name,
            url: String::new(),
            mime,
            body: bytes.to_vec(),
        })
        .collect();
    // Referenced files first (they are never themselves referring files).
    for pass in [false, true] {
        for i in 0..assets.len() {
            let refers = REFERENCES.iter().any(|(f, _)| *f == assets[i].name);
            if refers != pass {
                continue;
            }
            if refers {
                let mut text = String::from_utf8(assets[i].body.clone()).expect("UTF-8 text");
                for (_, target) in REFERENCES.iter().filter(|(f, _)| *f == assets[i].name) {
                    let url = assets
                        .iter()
                        .find(|a| a.name == *target)
                        .map(|a| a.url.clone())
                        .expect("referenced asset");
                    text = text.replace(&format!("/static/{target}"), &url);
                }
                assets[i].body = text.into_bytes();
            }
            assets[i].url = hashed_url(assets[i].name, &fingerprint(&assets[i].body));
        }
    }
    assets
});

/// The fingerprinted path of a static file, for templates: `asset_url("app.css")`.
/// An unknown name falls back to its unhashed path (and a test catches it).
pub fn asset_url(name: &str) -> &'static str {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => a.url.as_str(),
        None => {
            tracing::error!(name, "no such static file");
            "/static/missing"
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{*path}", get(serve_hashed))
        .route("/static/{*path}", get(serve_unhashed))
}

fn file(asset: &'static Asset, cache: &'static str) -> Response {
    (
        [(CONTENT_TYPE, asset.mime), (CACHE_CONTROL, cache)],
        asset.body.as_slice(),
    )
        .into_response()
}

async fn serve_hashed(Path(path): Path<String>) -> Response {
    let url = format!("/assets/{path}");
    match ASSETS.iter().find(|a| a.url == url) {
        Some(a) => file(a, IMMUTABLE),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn serve_unhashed(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == path) {
        Some(a) => file(a, UNHASHED),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_fingerprinted_path() {
        for a in ASSETS.iter() {
            assert!(a.url.starts_with("/assets/"), "{}", a.url);
            assert!(a.url.contains(&fingerprint(&a.body)), "{}", a.url);
        }
        assert_eq!(
            hashed_url("app.css", "0011aabb"),
            "/assets/app.0011aabb.css"
        );
        assert_eq!(
            hashed_url("vendor/htmx.min.js", "0011aabb"),
            "/assets/vendor/htmx.min.0011aabb.js"
        );
    }

    #[test]
    fn the_stylesheet_names_the_fingerprinted_font() {
        let css = ASSETS.iter().find(|a| a.name == "app.css").unwrap();
        let css = std::str::from_utf8(&css.body).unwrap();
        assert!(css.contains(asset_url("fonts/Vazirmatn-Variable.woff2")));
        assert!(!css.contains("/static/"));
    }
}
