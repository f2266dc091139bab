//! `GET /metrics`: Prometheus text format (version 0.0.4), from a small in-process registry.
//!
//! - `clusterpulse_http_requests_total{method, route, status}`: requests by method, matched
//!   route *pattern* (never the raw path, which can carry invitation tokens or feedback
//!   references) and status class (`2xx` …).
//! - `clusterpulse_http_request_duration_seconds{route}`: latency histogram by route pattern.
//! - `clusterpulse_survey_responses_submitted_total{via}`: responses stored (`api` or `form`;
//!   exact replays are not counted).
//! - `clusterpulse_feedback_submitted_total{channel}`: feedback items stored.
//! - `clusterpulse_outbox_queue_depth`: messages waiting in the outbox (read at scrape time).
//!
//! Counters are per server instance, from its start: sum them across instances in Prometheus.
//! No label carries personal data: methods, route patterns, status classes and the fixed
//! channel vocabulary only.

pub use crate::config::MetricsAccess;
use crate::kernel::error::AppError;
use crate::web::auth::MaybeUser;
use crate::web::State;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{HttpRequest, HttpResponse};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let i = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum += seconds;
        self.count += 1;
    }
}

#[derive(Default)]
struct Http {
    requests: BTreeMap<(&'static str, String, &'static str), u64>,
    latency: BTreeMap<String, Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    http: Mutex<Http>,
    responses_api: AtomicU64,
    responses_form: AtomicU64,
    responses_openrosa: AtomicU64,
    feedback: Mutex<BTreeMap<&'static str, u64>>,
}

/// How submissions reached the server.
#[derive(Debug, Clone, Copy)]
pub enum Via {
    Api,
    Form,
    /// An app speaking OpenRosa (ODK Collect, KoboCollect, Enketo).
    OpenRosa,
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        // Arbitrary methods would let a client mint label values.
        _ => "OTHER",
    }
}

fn status_class(code: u16) -> &'static str {
    match code {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    pub fn observe_request(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        *http
            .requests
            .entry((
                method_label(method),
                route.to_string(),
                status_class(status),
            ))
            .or_insert(0) += 1;
        http.latency
            .entry(route.to_string())
            .or_default()
            .observe(seconds);
    }

    /// A survey response was stored (not an exact replay).
    pub fn response_submitted(&self, via: Via) {
        match via {
            Via::Api => &self.responses_api,
            Via::Form => &self.responses_form,
            Via::OpenRosa => &self.responses_openrosa,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// A feedback item was stored.
    pub fn feedback_submitted(&self, channel: &str) {
        let channel = crate::domain::feedback::CHANNELS
            .iter()
            .copied()
            .find(|c| *c == channel)
            .unwrap_or("other");
        let mut f = self.feedback.lock().unwrap_or_else(|e| e.into_inner());
        *f.entry(channel).or_insert(0) += 1;
    }

    /// The registry in Prometheus text format; `queue_depth` is read by the caller.
    pub fn render(&self, queue_depth: Option<i64>) -> String {
        let mut out = String::new();
        let http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(
            "# HELP clusterpulse_http_requests_total HTTP requests by method, route pattern and status class.\n\
             # TYPE clusterpulse_http_requests_total counter\n",
        );
        for ((method, route, class), n) in &http.requests {
            let _ = writeln!(
                out,
                "clusterpulse_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{class}\"}} {n}",
                escape(route)
            );
        }
        out.push_str(
            "# HELP clusterpulse_http_request_duration_seconds HTTP request latency by route pattern.\n\
             # TYPE clusterpulse_http_request_duration_seconds histogram\n",
        );
        for (route, h) in &http.latency {
            let route = escape(route);
            let mut cumulative = 0;
            for (i, le) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                let _ = writeln!(
                    out,
                    "clusterpulse_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "clusterpulse_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 clusterpulse_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 clusterpulse_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        drop(http);
        let _ = write!(
            out,
            "# HELP clusterpulse_survey_responses_submitted_total Survey responses stored (exact replays not counted).\n\
             # TYPE clusterpulse_survey_responses_submitted_total counter\n\
             clusterpulse_survey_responses_submitted_total{{via=\"api\"}} {}\n\
             clusterpulse_survey_responses_submitted_total{{via=\"form\"}} {}\n\
             clusterpulse_survey_responses_submitted_total{{via=\"openrosa\"}} {}\n",
            self.responses_api.load(Ordering::Relaxed),
            self.responses_form.load(Ordering::Relaxed),
            self.responses_openrosa.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP clusterpulse_feedback_submitted_total Feedback items stored, by channel.\n\
             # TYPE clusterpulse_feedback_submitted_total counter\n",
        );
        let feedback = self.feedback.lock().unwrap_or_else(|e| e.into_inner());
        for channel in crate::domain::feedback::CHANNELS {
            let n = feedback.get(channel).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "clusterpulse_feedback_submitted_total{{channel=\"{channel}\"}} {n}"
            );
        }
        drop(feedback);
        if let Some(depth) = queue_depth {
            let _ = write!(
                out,
                "# HELP clusterpulse_outbox_queue_depth Messages waiting in the outbox.\n\
                 # TYPE clusterpulse_outbox_queue_depth gauge\n\
                 clusterpulse_outbox_queue_depth {depth}\n"
            );
        }
        out
    }
}

/// Label values are route patterns; escaped anyway as the format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The label for a request: its matched route pattern, or `(unmatched)`.
pub fn route_label(req: &ServiceRequest) -> String {
    req.match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_string())
}

/// Middleware body (used with `wrap_fn`): records a finished request.
pub fn record<B: MessageBody>(
    metrics: &Metrics,
    method: Method,
    route: String,
    started: Instant,
    res: Result<ServiceResponse<B>, actix_web::Error>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    metrics.observe_request(&method, &route, status, started.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`
pub async fn export(
    state: State,
    req: HttpRequest,
    user: MaybeUser,
) -> Result<HttpResponse, AppError> {
    let is_admin = user.0.as_ref().is_some_and(|u| u.is_admin());
    let allowed = is_admin
        || match state.config.metrics_access {
            MetricsAccess::Public => true,
            MetricsAccess::Loopback => req.peer_addr().is_some_and(|a| a.ip().is_loopback()),
            MetricsAccess::AdminOnly => false,
        };
    if !allowed {
        return Err(match user.0 {
            None => AppError::Unauthorized(
                "metrics need an admin's bearer token (or CLUSTERPULSE_METRICS_PUBLIC)".into(),
            ),
            Some(_) => AppError::Forbidden("only an admin can read the metrics".into()),
        });
    }
    let depth = state
        .db(|conn| Ok(crate::mail::queue_depth(conn)?))
        .await
        .map_err(|e| tracing::warn!(error = %e, "metrics: outbox queue depth unavailable"))
        .ok();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(state.metrics.render(depth)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.observe_request(&Method::GET, "/api/v1/rounds/{id}", 200, 0.003);
        m.observe_request(&Method::GET, "/api/v1/rounds/{id}", 404, 0.2);
        m.observe_request(
            &Method::from_bytes(b"BREW").unwrap(),
            "(unmatched)",
            404,
            0.001,
        );
        m.response_submitted(Via::Api);
        m.feedback_submitted("hotline");
        let text = m.render(Some(3));
        for line in [
            r#"clusterpulse_http_requests_total{method="GET",route="/api/v1/rounds/{id}",status="2xx"} 1"#,
            r#"clusterpulse_http_requests_total{method="GET",route="/api/v1/rounds/{id}",status="4xx"} 1"#,
            r#"clusterpulse_http_requests_total{method="OTHER",route="(unmatched)",status="4xx"} 1"#,
            r#"clusterpulse_http_request_duration_seconds_bucket{route="/api/v1/rounds/{id}",le="0.005"} 1"#,
            r#"clusterpulse_http_request_duration_seconds_bucket{route="/api/v1/rounds/{id}",le="0.25"} 2"#,
            r#"clusterpulse_http_request_duration_seconds_bucket{route="/api/v1/rounds/{id}",le="+Inf"} 2"#,
            r#"clusterpulse_http_request_duration_seconds_count{route="/api/v1/rounds/{id}"} 2"#,
            r#"clusterpulse_survey_responses_submitted_total{via="api"} 1"#,
            r#"clusterpulse_survey_responses_submitted_total{via="form"} 0"#,
            r#"clusterpulse_feedback_submitted_total{channel="hotline"} 1"#,
            r#"clusterpulse_feedback_submitted_total{channel="web"} 0"#,
            "clusterpulse_outbox_queue_depth 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing in:\n{text}"
            );
        }
    }

    #[test]
    fn access_setting() {
        assert_eq!(
            MetricsAccess::parse(None).unwrap(),
            MetricsAccess::AdminOnly
        );
        assert_eq!(
            MetricsAccess::parse(Some("1")).unwrap(),
            MetricsAccess::Public
        );
        assert_eq!(
            MetricsAccess::parse(Some("loopback")).unwrap(),
            MetricsAccess::Loopback
        );
        assert!(MetricsAccess::parse(Some("maybe")).is_err());
    }
}
