//! Operations: liveness, readiness, Prometheus metrics.
//!
//! `/metrics` answers only the national admin's session or a direct connection from this machine
//! (a loopback peer, and no `Forwarded`, `X-Forwarded-For` or `X-Real-IP` header: a request a
//! proxy relays is not direct); anyone else gets 404.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::AppState;
use crate::context::Ctx;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// One recorder per process (tests start many apps in one process).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (embedding); then ours just renders empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Headers a proxy adds when it relays a request.
const FORWARDING: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Whether the request came straight from this machine, not through a proxy.
fn is_direct_local(peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    peer.is_some_and(|p| p.ip().is_loopback())
        && !FORWARDING.iter().any(|h| headers.contains_key(*h))
}

/// May this request read the metrics?
fn may_read_metrics(ctx: &Ctx, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let admin = ctx
        .principal
        .as_ref()
        .is_some_and(|p| p.role == hamdeli_domain::Role::NationalAdmin);
    admin || is_direct_local(peer, headers)
}

async fn metrics(ctx: Ctx, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    if !may_read_metrics(&ctx, peer, req.headers()) {
        return crate::error::AppError::NotFound.into_response();
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle().render(),
    )
        .into_response()
}

/// Counts requests and their latency by route pattern (never the raw path: no ids in labels).
pub async fn track_metrics(req: Request, next: Next) -> Response {
    handle();
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("hamdeli_http_requests_total", &labels).increment(1);
    metrics::histogram!("hamdeli_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_direct_local_requests_are_local() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let local6: SocketAddr = "[::1]:5000".parse().unwrap();
        let remote: SocketAddr = "203.0.113.7:5000".parse().unwrap();
        let none = HeaderMap::new();
        assert!(is_direct_local(Some(local), &none));
        assert!(is_direct_local(Some(local6), &none));
        assert!(!is_direct_local(Some(remote), &none));
        assert!(!is_direct_local(None, &none));
        let mut relayed = HeaderMap::new();
        relayed.insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
        assert!(!is_direct_local(Some(local), &relayed));
    }
}
