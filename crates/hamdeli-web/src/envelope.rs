//! The HTTP envelope every response goes out in: security headers, cache rules, compression, and
//! the request span the log sees (route pattern, never the query string).

use axum::extract::{MatchedPath, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::predicate::{Predicate, SizeAbove};

/// No inline script or style, nothing from another host, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Sets the security headers on every response, and `Cache-Control: no-store` on every response
/// that did not choose its own caching (only static files do: pages, exports, the API and error
/// pages of signed-in users and visitors alike are never stored).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Compresses text (pages, CSS, JavaScript, JSON, CSV) of more than a few hundred bytes; never
/// fonts, images or XLSX files, which are compressed already, nor event streams (each event must
/// go out at once).
pub fn compressible() -> impl Predicate {
    SizeAbove::new(256).and(
        |_: StatusCode, _: Version, headers: &HeaderMap, _: &axum::http::Extensions| {
            let ct = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            (ct.starts_with("text/") && !ct.starts_with("text/event-stream"))
                || ct.starts_with("application/json")
                || ct.starts_with("application/javascript")
                || ct.starts_with("image/svg+xml")
        },
    )
}

/// The request's span: its method and route pattern (`/registry/persons/{id}`), never the raw
/// path or query string, which can carry a national code or a name (`/registry?q=…`).
pub fn span_for(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str())
        .unwrap_or("unmatched");
    tracing::info_span!("request", method = %req.method(), route = %route)
}
