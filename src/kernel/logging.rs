//! Log filter and setup. Whatever `RUST_LOG` asks for, libraries that would log personal data
//! at debug level are held back: handlebars logs every template context it renders (names,
//! emails, feedback messages, references), and actix's logger module logs each error response
//! with its message (which may echo a reference). The request log itself is ours
//! (`clusterpulse::http`: method, route pattern, status, latency, request id).

use tracing_subscriber::EnvFilter;

/// Directives appended after the operator's, so they win for these targets.
pub const PRIVACY_DIRECTIVES: [&str; 3] = [
    "handlebars=warn",
    "actix_web::middleware::logger=info",
    "actix_http=info",
];

/// `spec` (RUST_LOG syntax, e.g. `debug` or `info,clusterpulse=trace`) plus
/// [`PRIVACY_DIRECTIVES`].
pub fn env_filter(spec: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"));
    for d in PRIVACY_DIRECTIVES {
        if let Ok(d) = d.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// The filter from `RUST_LOG` (default `info`).
pub fn filter_from_env() -> EnvFilter {
    env_filter(&std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
}
