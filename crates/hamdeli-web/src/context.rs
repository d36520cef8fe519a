//! The request context every handler gets: who is asking (session or API key), in which
//! language, from where, and the CSRF token for the page. The layer that builds it also refuses
//! state-changing requests without a valid CSRF token and renders error pages in the user's
//! language.

use std::net::SocketAddr;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

use hamdeli_domain::Principal;
use hamdeli_locale::Locale;
use hamdeli_store::users::User;
use hamdeli_store::{api_keys, sessions};

use crate::error::{AppError, ErrorKind};
use crate::{AppState, cookies, csrf};

#[derive(Clone, Debug)]
pub struct Ctx {
    pub locale: Locale,
    pub principal: Option<Principal>,
    pub user: Option<User>,
    pub session_token: Option<String>,
    pub csrf_token: String,
    pub client_addr: String,
    pub path: String,
    pub demo: bool,
    pub is_api: bool,
}

impl Ctx {
    /// The principal, or an error that sends the visitor to the login page.
    pub fn require(&self) -> Result<&Principal, AppError> {
        self.principal.as_ref().ok_or(AppError::Unauthenticated)
    }

    pub fn audit_actor(&self) -> hamdeli_store::audit::Actor<'_> {
        hamdeli_store::audit::Actor {
            principal: self.principal.as_ref(),
            client_addr: &self.client_addr,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("request context missing".into()))
    }
}

/// The client's address: the peer's, or — only when the peer is one of the configured trusted
/// proxies — the one `X-Forwarded-For` names. The header is read from the right (the entry the
/// nearest proxy added) past every trusted proxy to the first address that is not one; entries
/// further left were written by the client and are never believed. An entry that is not an
/// address stops the walk at the peer.
pub fn client_addr(req: &Request, trusted_proxies: &[std::net::IpAddr]) -> String {
    let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_canonical())
    else {
        return "unknown".into();
    };
    let trusted = |ip: &std::net::IpAddr| trusted_proxies.iter().any(|t| t.to_canonical() == *ip);
    if !trusted(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect();
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        let parsed = entry
            .parse::<std::net::IpAddr>()
            .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()));
        let Ok(ip) = parsed.map(|ip| ip.to_canonical()) else {
            return peer.to_string();
        };
        client = ip;
        if !trusted(&ip) {
            break;
        }
    }
    client.to_string()
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// How much of a multipart body the CSRF check reads to find the `_csrf` field, which the form
/// places first; the rest of the body is handed on unread.
const MULTIPART_PEEK: usize = 16 * 1024;

/// Finds the CSRF token a request presents: the `x-csrf-token` header, the `_csrf` field of an
/// urlencoded form, or the `_csrf` field that comes first in a multipart form. Never the query
/// string (it ends up in logs, histories and `Referer` headers). A form body is read and put
/// back so the handler still sees it; of a multipart body only its first part is read.
async fn presented_csrf(req: Request) -> Result<(Request, Option<String>), AppError> {
    if let Some(v) = req
        .headers()
        .get(csrf::HEADER)
        .and_then(|v| v.to_str().ok())
    {
        let token = v.to_owned();
        return Ok((req, Some(token)));
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Some(boundary) = multipart_boundary(&content_type) {
        return peek_multipart(req, &boundary).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 2 * 1024 * 1024)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let token = std::str::from_utf8(&bytes).ok().and_then(|s| {
        form_urlencoded_pairs(s)
            .into_iter()
            .find(|(k, _)| k == csrf::FORM_FIELD)
            .map(|(_, v)| v)
    });
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// What the start of a multipart body says about its first part.
#[derive(Debug, PartialEq)]
enum FirstPart {
    /// More bytes are needed.
    Incomplete,
    /// The first part is the `_csrf` field with this value.
    Csrf(String),
    /// The first part is something else (or the body is malformed).
    Other,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn first_part(buf: &[u8], boundary: &str) -> FirstPart {
    let opening = format!("--{boundary}\r\n");
    // A preamble before the first boundary is allowed; browsers send none.
    let Some(start) = find(buf, opening.as_bytes()) else {
        return if buf.len() < MULTIPART_PEEK {
            FirstPart::Incomplete
        } else {
            FirstPart::Other
        };
    };
    let rest = &buf[start + opening.len()..];
    let Some(head_end) = find(rest, b"\r\n\r\n") else {
        return FirstPart::Incomplete;
    };
    let Ok(head) = std::str::from_utf8(&rest[..head_end]) else {
        return FirstPart::Other;
    };
    let is_csrf = head.split("\r\n").any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("content-disposition")
                && value.split(';').any(|p| {
                    p.split_once('=').is_some_and(|(k, v)| {
                        k.trim() == "name" && v.trim().trim_matches('"') == csrf::FORM_FIELD
                    })
                })
        })
    });
    if !is_csrf {
        return FirstPart::Other;
    }
    let value = &rest[head_end + 4..];
    let closing = format!("\r\n--{boundary}");
    match find(value, closing.as_bytes()) {
        Some(end) => match std::str::from_utf8(&value[..end]) {
            Ok(v) => FirstPart::Csrf(v.trim().to_owned()),
            Err(_) => FirstPart::Other,
        },
        None => FirstPart::Incomplete,
    }
}

/// Reads a multipart body only as far as its first part, then hands on a body that yields the
/// bytes read and then the rest of the original body (still under the body limit).
async fn peek_multipart(
    req: Request,
    boundary: &str,
) -> Result<(Request, Option<String>), AppError> {
    use http_body::Body as _;
    let (parts, mut body) = req.into_parts();
    let mut read: Vec<u8> = Vec::new();
    let mut token = None;
    loop {
        match first_part(&read, boundary) {
            FirstPart::Csrf(t) => {
                token = Some(t);
                break;
            }
            FirstPart::Other => break,
            FirstPart::Incomplete if read.len() >= MULTIPART_PEEK => break,
            FirstPart::Incomplete => {}
        }
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => break,
            Some(Err(_)) => return Err(AppError::PayloadTooLarge),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    read.extend_from_slice(&data);
                }
            }
        }
    }
    let body = Body::new(Prefixed {
        prefix: Some(read.into()),
        rest: body,
    });
    Ok((Request::from_parts(parts, body), token))
}

/// A body that yields `prefix`, then `rest`.
struct Prefixed {
    prefix: Option<axum::body::Bytes>,
    rest: Body,
}

impl http_body::Body for Prefixed {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(prefix) = self.prefix.take().filter(|p| !p.is_empty()) {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(prefix))));
        }
        std::pin::Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.as_ref().is_none_or(|p| p.is_empty()) && self.rest.is_end_stream()
    }
}

fn form_urlencoded_pairs(s: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(s).unwrap_or_default()
}

/// Builds the [`Ctx`], enforces CSRF, and localises error responses.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    let client = client_addr(&req, &state.config.trusted_proxies);

    // Who is asking: on an API route an API key wins over a session cookie; elsewhere a bearer
    // header is ignored (pages are for people with sessions, and their forms need CSRF tokens).
    let bearer = headers
        .get(AUTHORIZATION)
        .filter(|_| is_api)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(String::from);
    let mut principal = None;
    let mut user = None;
    let mut session_token = None;
    let mut by_api_key = false;
    if let Some(secret) = bearer {
        match api_keys::authenticate(&state.store, &secret).await {
            Ok(Some(key)) => {
                principal = Some(key.principal());
                by_api_key = true;
            }
            Ok(None) => {
                return AppError::Unauthenticated.render(state.config.default_locale, true, &path);
            }
            Err(e) => return AppError::from(e).render(state.config.default_locale, is_api, &path),
        }
    } else if let Some(token) = cookies::get(&headers, cookies::SESSION) {
        match sessions::user_for_token(&state.store, &token).await {
            Ok(Some(u)) => {
                principal = Some(u.principal());
                user = Some(u);
                session_token = Some(token);
            }
            Ok(None) => {}
            Err(e) => return AppError::from(e).render(state.config.default_locale, is_api, &path),
        }
    }

    let locale = cookies::get(&headers, cookies::LANG)
        .and_then(|l| Locale::parse(&l))
        .or_else(|| user.as_ref().and_then(|u| Locale::parse(&u.locale)))
        .or_else(|| {
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
                .filter(|_| is_api)
        })
        .unwrap_or(state.config.default_locale);

    // Capability F (issue 15): an NGO without an active licence has no partner access.
    if let Some(org) = principal.as_ref().and_then(|p| p.scope.organisation())
        && !hamdeli_app::network::partner_access_allowed(&state.store, org)
            .await
            .unwrap_or(true)
    {
        return AppError::Forbidden.render(locale, is_api, &path);
    }

    let existing_seed = cookies::get(&headers, cookies::CSRF);
    let seed = existing_seed
        .clone()
        .unwrap_or_else(hamdeli_store::tokens::random_token);
    let csrf_token = csrf::token_for(&state.config.secret_key, &seed);

    let mut req = req;
    if is_state_changing(req.method())
        && !by_api_key
        && !crate::pages::market::api::csrf_exempt(&path)
    {
        let (r, presented) = match presented_csrf(req).await {
            Ok(x) => x,
            Err(e) => return e.render(locale, is_api, &path),
        };
        req = r;
        let valid = match (&existing_seed, presented) {
            (Some(seed), Some(token)) => csrf::verify(&state.config.secret_key, seed, &token),
            _ => false,
        };
        if !valid {
            tracing::warn!(path = %path, client = %client, "refused a request without a valid CSRF token");
            return AppError::Csrf.render(locale, is_api, &path);
        }
    }

    let ctx = Ctx {
        locale,
        principal,
        user,
        session_token,
        csrf_token,
        client_addr: client,
        path: path.clone(),
        demo: state.demo,
        is_api,
    };
    req.extensions_mut().insert(ctx.clone());
    let mut response = next.run(req).await;

    if let Some(kind) = response.extensions().get::<ErrorKind>().cloned() {
        let mut rendered = crate::error::render_kind(&kind, &ctx);
        // Keep cookies a failing handler set (e.g. clearing a stale session).
        for v in response.headers().get_all(SET_COOKIE) {
            rendered.headers_mut().append(SET_COOKIE, v.clone());
        }
        response = rendered;
    }
    if existing_seed.is_none() {
        let cookie = cookies::set(cookies::CSRF, &seed, None, state.config.secure_cookies);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_pairs() {
        let pairs = form_urlencoded_pairs("a=1&_csrf=ab%2Fc&name=%D8%B9%D9%84%DB%8C+x");
        assert_eq!(pairs[1], ("_csrf".into(), "ab/c".into()));
        assert_eq!(pairs[2].1, "علی x");
    }

    #[test]
    fn finds_the_csrf_field_only_first_in_a_multipart_body() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"abc\""),
            Some("abc".into())
        );
        assert_eq!(multipart_boundary("application/json; boundary=abc"), None);
        let first =
            b"--abc\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nt0k\r\n--abc\r\n";
        assert_eq!(first_part(first, "abc"), FirstPart::Csrf("t0k".into()));
        assert_eq!(first_part(&first[..40], "abc"), FirstPart::Incomplete);
        assert_eq!(first_part(&first[..60], "abc"), FirstPart::Incomplete);
        let later = b"--abc\r\nContent-Disposition: form-data; name=\"list\"\r\n\r\nx\r\n--abc\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nt0k\r\n--abc--\r\n";
        assert_eq!(first_part(later, "abc"), FirstPart::Other);
        let named_like =
            b"--abc\r\nContent-Disposition: form-data; name=\"_csrf2\"\r\n\r\nt0k\r\n--abc\r\n";
        assert_eq!(first_part(named_like, "abc"), FirstPart::Other);
    }
}
