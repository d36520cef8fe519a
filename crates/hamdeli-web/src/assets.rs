//! Static files carried in the binary: no page loads anything from another host.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

const FILES: &[(&str, &str, &[u8])] = &[
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

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(serve))
}

async fn serve(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == path) {
        Some((_, mime, body)) => (
            [
                (CONTENT_TYPE, *mime),
                (CACHE_CONTROL, "public, max-age=86400"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
