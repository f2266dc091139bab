//! HTTP: JSON API under `/api/v1`, HTML pages, authentication, middleware.

pub mod api;
pub mod auth;
pub mod error;
pub mod error_pages;
pub mod metrics;
pub mod multipart;
pub mod odata;
pub mod openapi;
pub mod openrosa;
pub mod pages;
pub mod ratelimit;
pub mod routes;

use crate::config::Config;
use crate::domain::Services;
use crate::kernel::error::AppError;
use actix_web::dev::Server;
use actix_web::dev::Service;
use actix_web::http::header;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{web, App, HttpMessage, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// Body limits (DESIGN.md): 256 KiB for responses and feedback, 1 MiB elsewhere; uploads
/// name their own (surveys 20 MB, areas 5 MB).
pub const BODY_LIMIT_DEFAULT: usize = 1024 * 1024;
pub const BODY_LIMIT_SUBMISSION: usize = 256 * 1024;
/// An operation's administrative areas list (a COD CSV of every admin2 area).
pub const BODY_LIMIT_AREAS: usize = 5 * 1024 * 1024;

/// Everything a request handler needs, shared by all workers: the domain's [`Services`]
/// (reached through `Deref`: `state.pool`, `state.catalog`, …) and what only HTTP needs.
pub struct AppState {
    pub app: Arc<Services>,
    pub public_limiter: ratelimit::RateLimiter,
    pub login_limiter: ratelimit::RateLimiter,
    /// Failed sign-ins per email and address (`domain::sign_in`).
    pub sign_in: crate::domain::sign_in::Throttle,
    /// Request and submission counters for `GET /metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

pub type State = web::Data<AppState>;

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.app
    }
}

impl AppState {
    pub async fn init(config: Config) -> anyhow::Result<AppState> {
        let limits = (config.rate_limit_public, config.rate_limit_login);
        let app = tokio::task::spawn_blocking(move || Services::init(config)).await??;
        Ok(AppState {
            app: Arc::new(app),
            public_limiter: ratelimit::RateLimiter::new(limits.0),
            login_limiter: ratelimit::RateLimiter::new(limits.1),
            sign_in: crate::domain::sign_in::Throttle::new(),
            metrics: Arc::new(metrics::Metrics::default()),
        })
    }

    /// Runs a database closure on the blocking pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut crate::db::DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}

/// The server's public address as the client should use it (no trailing slash): the
/// configured `CLUSTERPULSE_PUBLIC_URL` when set, else the scheme and host the request came to.
pub fn public_base(state: &State, req: &actix_web::HttpRequest) -> String {
    if state.config.public_url_explicit {
        state.config.public_url.trim_end_matches('/').to_string()
    } else {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    }
}

pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
}

routes::route_table! {
    "/healthz" => { GET healthz },
    "/metrics" => { GET metrics::export },
    ; mount { "/api/v1" => api, "/odata" => odata, "/openrosa" => openrosa, "" => pages }
}

/// The whole route table (shared by the server and tests); [`route_list`] enumerates it.
pub fn routes(cfg: &mut web::ServiceConfig) {
    register(cfg);
    cfg.default_service(web::to(not_found));
}

pub fn server(
    state: Arc<AppState>,
    listener: TcpListener,
    workers: usize,
) -> anyhow::Result<Server> {
    let data = web::Data::from(state);
    let mut server = HttpServer::new(move || {
        let registry = data.metrics.clone();
        App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(BODY_LIMIT_DEFAULT)
                    .error_handler(|e, _| crate::web::error::json_error(e).into()),
            )
            .app_data(web::FormConfig::default().limit(BODY_LIMIT_SUBMISSION))
            .app_data(web::PayloadConfig::new(BODY_LIMIT_DEFAULT))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| crate::web::error::path_error(e).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| crate::web::error::query_error(e).into()),
            )
            .wrap_fn(|req, srv| {
                let page = error_pages::wanted(&req);
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    match page {
                        Some(lang) => error_pages::render(lang, res).await,
                        None => Ok(res),
                    }
                }
            })
            .wrap(security_headers())
            .wrap(Compress::default())
            .wrap(tracing_actix())
            .wrap_fn(move |req, srv| {
                let registry = registry.clone();
                let method = req.method().clone();
                // Matching the path against the route table costs a walk over it: done once
                // here, and the request log line reads the label back.
                let route = metrics::route_label(&req);
                req.extensions_mut().insert(RouteLabel(route.clone()));
                let started = std::time::Instant::now();
                let fut = srv.call(req);
                async move { metrics::record(&registry, method, route, started, fut.await) }
            })
            .wrap_fn(|req, srv| {
                let id = RequestId::for_request(&req);
                req.extensions_mut().insert(id.clone());
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    res.headers_mut().insert(
                        header::HeaderName::from_static(REQUEST_ID_HEADER),
                        id.header_value(),
                    );
                    Ok(res)
                }
            })
            .configure(routes)
    })
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// Lower-case, as `HeaderName::from_static` wants it.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of one request: taken from a valid incoming `X-Request-Id` (1–64 characters of
/// `A-Z a-z 0-9 . _ -`), else generated; sent back on the response and written in the
/// request log line.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn is_valid(v: &str) -> bool {
        (1..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    }

    pub fn for_request(req: &actix_web::dev::ServiceRequest) -> RequestId {
        let given = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| Self::is_valid(v));
        RequestId(match given {
            Some(v) => v.to_string(),
            None => uuid::Uuid::new_v4().simple().to_string(),
        })
    }

    fn header_value(&self) -> header::HeaderValue {
        // Only safe ASCII gets here (checked or generated).
        header::HeaderValue::from_str(&self.0)
            .unwrap_or_else(|_| header::HeaderValue::from_static("invalid"))
    }
}

/// The route pattern a request matched (`(unmatched)` if none), found once per request by
/// the metrics middleware and read again by the request log.
#[derive(Clone)]
struct RouteLabel(String);

/// Request log: method, matched route pattern (never the raw path, which may carry tokens or
/// references), status, latency and request id.
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%{route}xi %s %Dms request_id=%{request_id}xi")
        .custom_request_replace("route", |req| {
            let pattern = req
                .extensions()
                .get::<RouteLabel>()
                .map(|r| r.0.clone())
                .unwrap_or_else(|| metrics::route_label(req));
            format!("{} {}", req.method(), pattern)
        })
        .custom_request_replace("request_id", |req| {
            req.extensions()
                .get::<RequestId>()
                .map(|id| id.0.clone())
                .unwrap_or_else(|| "-".to_string())
        })
        .log_target("clusterpulse::http")
}

async fn healthz(state: State) -> HttpResponse {
    let pool = state.pool.clone();
    let ok = web::block(move || -> bool {
        use diesel::connection::SimpleConnection;
        pool.get_timeout(std::time::Duration::from_secs(3))
            .ok()
            .map(|mut c| c.batch_execute("SELECT 1").is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    if ok {
        HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "unavailable", "database": "unreachable"}))
    }
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::not_found("no such page or endpoint"))
}
