//! Errors on HTML routes as pages in the person's language. Handlers return [`AppError`]
//! as everywhere else (JSON by `web::error`); this middleware turns an error reply to a
//! page request (anything outside `/api`, `/odata`, `/metrics`, `/healthz`, `/static` and
//! scripts) into a page: a title and an explanation for the status in the language of
//! `?lang=`, else `Accept-Language`, else English, with the specific sentence the handler
//! gave. A client that asks only for JSON keeps the JSON.

use crate::render::i18n;
use crate::web::State;
use actix_web::body::{to_bytes, BoxBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::HttpResponse;

/// The language an error page would be shown in, or `None` when this request is not for a
/// page.
pub fn wanted(req: &ServiceRequest) -> Option<String> {
    let path = req.path();
    let machine = ["/api/", "/odata", "/metrics", "/healthz", "/static/"]
        .iter()
        .any(|p| path.starts_with(p))
        || path.ends_with(".js");
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if machine || (accept.contains("application/json") && !accept.contains("text/html")) {
        return None;
    }
    let from_query = req
        .query_string()
        .split('&')
        .filter_map(|kv| kv.strip_prefix("lang="))
        .find(|l| known(l))
        .map(str::to_string);
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(from_accept_language);
    Some(
        from_query
            .or(accept_language)
            .unwrap_or_else(|| "en".to_string()),
    )
}

fn known(lang: &str) -> bool {
    i18n::LANGUAGES.iter().any(|l| l.as_str() == lang)
}

/// The first of our languages an `Accept-Language` header names, by its q-values.
pub fn from_accept_language(header: &str) -> Option<String> {
    let mut tags: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.trim().split(';');
            let tag = bits.next()?.trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q=").map(str::to_string))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next()?.to_string();
            (q > 0.0 && known(&primary)).then_some((q, i, primary))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().next().map(|(_, _, l)| l)
}

/// Replaces a JSON error reply with the error page; anything else passes unchanged.
pub async fn render(
    lang: String,
    res: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || !is_json {
        return Ok(res);
    }
    let Some(state) = res.request().app_data::<State>().cloned() else {
        return Ok(res);
    };
    let (req, res) = res.into_parts();
    let mut kept = res.headers().clone();
    let body = to_bytes(res.into_body()).await.unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string));
    let page = page(&state, &lang, status.as_u16(), detail.as_deref());
    kept.remove(header::CONTENT_TYPE);
    kept.remove(header::CONTENT_LENGTH);
    let mut out = HttpResponse::build(status);
    for (k, v) in kept.iter() {
        out.append_header((k.clone(), v.clone()));
    }
    let out = out
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page);
    Ok(ServiceResponse::new(req, out))
}

/// The page for `status`: its title and explanation in `lang`, then the handler's own
/// sentence (in English: the domain's messages are not translated), marked as such.
pub fn page(state: &State, lang: &str, status: u16, detail: Option<&str>) -> String {
    let key = match status {
        400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 422 | 429 => status,
        s if s >= 500 => 500,
        _ => 400,
    };
    let title = i18n::t(lang, &format!("err_{key}_title"));
    let body = i18n::t(lang, &format!("err_{key}_body"));
    // A 5xx sentence says nothing useful beyond "try again"; everything else names the cause.
    let detail = detail.filter(|_| status < 500);
    state
        .templates
        .render(
            "message",
            &serde_json::json!({
                "title": title, "lang": lang, "rtl": i18n::is_rtl(lang),
                "heading": title, "body": body, "status": status,
                "detail": detail, "detail_foreign": lang != "en",
                "home": i18n::t(lang, "err_home"),
            }),
        )
        .unwrap_or_else(|_| format!("<!doctype html><title>{status}</title><h1>{status}</h1>"))
}

#[cfg(test)]
mod tests {
    use super::from_accept_language;

    #[test]
    fn accept_language_picks_the_best_known_language() {
        assert_eq!(
            from_accept_language("ar-YE,ar;q=0.9,en;q=0.5").as_deref(),
            Some("ar")
        );
        assert_eq!(
            from_accept_language("de-DE, fr;q=0.8, en;q=0.9").as_deref(),
            Some("en")
        );
        assert_eq!(
            from_accept_language("es;q=0, fr;q=0.1").as_deref(),
            Some("fr")
        );
        assert_eq!(from_accept_language("de, *;q=0.5"), None);
        assert_eq!(from_accept_language(""), None);
    }
}
