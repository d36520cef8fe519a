//! The HTTP adapter: server-rendered Persian/English pages (askama + vendored htmx), the JSON
//! API under `/api/v1/` with its OpenAPI document, sessions, CSRF and operations endpoints.
//! Domain rules live in `hamdeli-domain`; storage in `hamdeli-store`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use hamdeli_store::Store;

pub mod api;
mod assets;
mod charts;
pub mod context;
mod cookies;
pub mod csrf;
pub mod envelope;
mod error;
pub mod export;
mod ops;
mod pages;
pub mod ratelimit;
mod use_case;
mod view;

pub use context::Ctx;
pub use error::AppError;

/// Settings the web layer needs from the configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Keys the CSRF tokens; generated and kept on first run when not configured.
    pub secret_key: Vec<u8>,
    /// Sets the `Secure` flag on cookies (behind HTTPS).
    pub secure_cookies: bool,
    pub default_locale: hamdeli_locale::Locale,
    /// Proxies whose `X-Forwarded-For` names the client (none by default: the peer address).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub login_limiter: Arc<ratelimit::LoginLimiter>,
    pub demo: bool,
    /// Imports running in the background, by batch id.
    pub imports: Arc<
        std::sync::Mutex<std::collections::HashMap<i64, Arc<hamdeli_registry::import::Progress>>>,
    >,
    /// Sends text messages (a donor's sign-up code): the log by default, the code itself only
    /// for the demo data set; the binary sets it from `sms_gateway_url` / `sms_log_codes`.
    pub sms: Arc<dyn hamdeli_app::sms::SmsSender>,
    /// Province and county names by code, read once on first use (see `PlaceNames::load`).
    pub(crate) place_names: pages::registry::PlaceNamesCache,
}

impl AppState {
    pub async fn new(store: Store, config: WebConfig) -> anyhow::Result<AppState> {
        let demo = hamdeli_store::settings::is_demo(&store).await?;
        Ok(AppState {
            store,
            config: Arc::new(config),
            login_limiter: Arc::new(ratelimit::LoginLimiter::default()),
            demo,
            imports: Arc::default(),
            sms: Arc::new(hamdeli_app::sms::LogSender::new(demo)),
            place_names: Default::default(),
        })
    }
}

/// Every route of the application, pages and API, behind the context and metrics layers, in the
/// envelope (compression, security headers, a request span without the query string).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .merge(ops::router())
        .merge(assets::router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::layer,
        ))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            64 * 1024 * 1024,
        ))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .compress_when(envelope::compressible()),
        )
        .layer(axum::middleware::from_fn(envelope::security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(envelope::span_for))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
