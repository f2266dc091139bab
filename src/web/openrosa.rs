//! The OpenRosa API for ODK Collect, KoboCollect and Enketo: the form list, each form's
//! manifest and XForm, and the submission address, as ODK Central serves them, at two kinds
//! of address (those apps take a server address, not bearer headers):
//! - `/openrosa/c/{token}`: a collector account's token ([`crate::domain::collectors`]),
//!   serving the operation's feedback form;
//! - `/openrosa/i/{token}`: a survey invitation's token ([`crate::domain::rounds::collect`]),
//!   serving the invitation's survey; an instance becomes the partner's response.
//!
//! Every reply carries `X-OpenRosa-Version: 1.0`; errors are OpenRosa response documents
//! (`<OpenRosaResponse><message nature="error">`), which the apps show. Every request counts
//! against the public per-address rate limit.

use crate::db::models::{Collector, Operation};
use crate::domain::collectors;
use crate::domain::feedback;
use crate::domain::offline::{CollectForm, Collected};
use crate::domain::rounds::collect as invitations;
use crate::kernel::error::AppError;
use crate::web::ratelimit::client_ip;
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

crate::web::routes::route_table! {
    "/c/{token}/formList" => { GET form_list },
    "/c/{token}/forms/{form}/form.xml" => { GET form_xml },
    "/c/{token}/forms/{form}/manifest" => { GET manifest },
    "/c/{token}/submission" [web::PayloadConfig::new(MAX_SUBMISSION)] => {
        HEAD submission_head,
        POST submission,
    },
    "/i/{token}/formList" => { GET invitation_form_list },
    "/i/{token}/forms/{form}/form.xml" => { GET invitation_form_xml },
    "/i/{token}/forms/{form}/manifest" => { GET invitation_manifest },
    "/i/{token}/submission" [web::PayloadConfig::new(MAX_SUBMISSION)] => {
        HEAD invitation_submission_head,
        POST invitation_submission,
    },
}

/// The largest submission taken (said in `X-OpenRosa-Accept-Content-Length`).
pub const MAX_SUBMISSION: usize = crate::web::BODY_LIMIT_SUBMISSION;

const XML: &str = "text/xml; charset=utf-8";

/// Escapes XML text and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn openrosa(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().insert(
        header::HeaderName::from_static("x-openrosa-version"),
        header::HeaderValue::from_static("1.0"),
    );
    r.headers_mut().insert(
        header::HeaderName::from_static("x-openrosa-accept-content-length"),
        header::HeaderValue::from(MAX_SUBMISSION),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// An OpenRosa response document with one message.
fn message(status: actix_web::http::StatusCode, nature: &str, text: &str) -> HttpResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <OpenRosaResponse xmlns=\"http://openrosa.org/http/response\">\
         <message nature=\"{nature}\">{}</message></OpenRosaResponse>\n",
        esc(text)
    );
    HttpResponse::build(status).content_type(XML).body(body)
}

/// Every reply: errors as OpenRosa messages (the sentence, then each field's problem).
fn reply(result: Result<HttpResponse, AppError>) -> HttpResponse {
    let r = result.unwrap_or_else(|e| {
        if let AppError::Internal(cause) = &e {
            tracing::error!(error = %format!("{cause:#}"), "openrosa request failed");
        }
        let mut text = e.client_message();
        for (field, problem) in e.fields() {
            text.push_str(&format!("\n{field}: {problem}"));
        }
        message(e.status_code(), "error", &text)
    });
    openrosa(r)
}

fn limit(state: &State, req: &HttpRequest) -> Result<(), AppError> {
    if state.public_limiter.check(client_ip(req)) {
        Ok(())
    } else {
        Err(AppError::TooManyRequests(
            "too many requests from this address; wait a minute and try again".into(),
        ))
    }
}

/// The collector of the token in the path, with its operation.
async fn collector(
    state: &State,
    req: &HttpRequest,
    token: String,
) -> Result<(Collector, Operation), AppError> {
    limit(state, req)?;
    state
        .db(move |conn| collectors::authenticate(conn, &token))
        .await
}

/// The address the app reached this collector at.
fn collector_url(state: &State, req: &HttpRequest, token: &str) -> String {
    format!(
        "{}{}{token}",
        crate::web::public_base(state, req),
        collectors::PATH_PREFIX
    )
}

/// The OpenRosa form list of one form, served at `url`.
fn form_list_body(form: &CollectForm, url: &str) -> HttpResponse {
    let id = &form.form_id;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <xforms xmlns=\"http://openrosa.org/xforms/xformsList\">\n  <xform>\n    \
         <formID>{}</formID>\n    <name>{}</name>\n    <version>{}</version>\n    \
         <hash>{}</hash>\n    <downloadUrl>{}</downloadUrl>\n    \
         <manifestUrl>{}</manifestUrl>\n  </xform>\n</xforms>\n",
        esc(id),
        esc(&form.name),
        esc(&form.version),
        esc(&form.hash),
        esc(&format!("{url}/forms/{id}/form.xml")),
        esc(&format!("{url}/forms/{id}/manifest")),
    );
    HttpResponse::Ok().content_type(XML).body(body)
}

/// The form's media files: none (the forms are text only), but the apps may ask.
fn empty_manifest() -> HttpResponse {
    HttpResponse::Ok().content_type(XML).body(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <manifest xmlns=\"http://openrosa.org/xforms/xformsManifest\"/>\n",
    )
}

/// `form` when `asked` is its id; a 404 naming what is served otherwise.
fn only(form: CollectForm, asked: &str) -> Result<CollectForm, AppError> {
    if form.form_id == asked {
        Ok(form)
    } else {
        Err(AppError::not_found(format!(
            "no form {asked:?} here; this address serves {:?}",
            form.form_id
        )))
    }
}

/// The `xml_submission_file` part of a multipart submission, as text.
fn instance_xml(req: &HttpRequest, body: &[u8]) -> Result<String, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = crate::web::multipart::parse(content_type, body)
        .map_err(|e| AppError::field("xml_submission_file", e.client_message()))?;
    form.part("xml_submission_file")
        .ok_or_else(|| {
            AppError::field(
                "xml_submission_file",
                "is required: the instance as a multipart part of that name",
            )
        })
        .and_then(|p| {
            String::from_utf8(p.data.clone())
                .map_err(|_| AppError::field("xml_submission_file", "is not UTF-8 text"))
        })
}

/// The reply to a stored (or already stored) instance.
fn received(done: &Collected) -> HttpResponse {
    let text = if done.created {
        format!("Received: {}", done.reference)
    } else {
        format!("Already received: {}", done.reference)
    };
    message(actix_web::http::StatusCode::CREATED, "", &text)
}

async fn form_of(state: &State, op: Operation) -> Result<CollectForm, AppError> {
    let catalog = state.catalog.current();
    state
        .db(move |conn| feedback::collect_form(conn, &catalog, &op))
        .await
}

/// The form at `/c/{token}/forms/{form}/…`: the collector's own, or a 404.
async fn asked_form(
    state: &State,
    req: &HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<CollectForm, AppError> {
    let (token, asked) = path.into_inner();
    let (_, op) = collector(state, req, token).await?;
    only(form_of(state, op).await?, &asked)
}

async fn form_list(state: State, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    reply(
        async {
            let token = path.into_inner();
            let (_, op) = collector(&state, &req, token.clone()).await?;
            let form = form_of(&state, op).await?;
            Ok(form_list_body(&form, &collector_url(&state, &req, &token)))
        }
        .await,
    )
}

async fn form_xml(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    reply(
        asked_form(&state, &req, path)
            .await
            .map(|form| HttpResponse::Ok().content_type(XML).body(form.xml)),
    )
}

async fn manifest(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    reply(
        asked_form(&state, &req, path)
            .await
            .map(|_| empty_manifest()),
    )
}

/// What an app asks before sending: may it, and how much (204).
async fn submission_head(state: State, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    reply(
        async {
            collector(&state, &req, path.into_inner()).await?;
            Ok(HttpResponse::NoContent().finish())
        }
        .await,
    )
}

/// One instance, as `multipart/form-data` with the part `xml_submission_file`: 201 with the
/// item's reference, also for a resubmission of an instance already stored.
async fn submission(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (collector, op) = collector(&state, &req, path.into_inner()).await?;
            let xml = instance_xml(&req, &body)?;
            let (catalog, config) = (state.catalog.current(), state.config.clone());
            let channel = collector.channel.clone();
            let done = state
                .db(move |conn| {
                    feedback::collect_submission(conn, &catalog, &config, &collector, &op, &xml)
                })
                .await?;
            if done.created {
                state.metrics.feedback_submitted(&channel);
            }
            Ok(received(&done))
        }
        .await,
    )
}

/// The address the app reached an invitation at.
fn invitation_url(state: &State, req: &HttpRequest, token: &str) -> String {
    format!(
        "{}{}{token}",
        crate::web::public_base(state, req),
        invitations::PATH_PREFIX
    )
}

async fn invitation_form(
    state: &State,
    req: &HttpRequest,
    token: String,
) -> Result<CollectForm, AppError> {
    limit(state, req)?;
    let catalog = state.catalog.current();
    state
        .db(move |conn| invitations::invitation_form(conn, &catalog, &token))
        .await
}

async fn invitation_form_list(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    reply(
        async {
            let token = path.into_inner();
            let form = invitation_form(&state, &req, token.clone()).await?;
            Ok(form_list_body(&form, &invitation_url(&state, &req, &token)))
        }
        .await,
    )
}

async fn invitation_form_xml(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (token, asked) = path.into_inner();
    reply(
        async {
            let form = only(invitation_form(&state, &req, token).await?, &asked)?;
            Ok(HttpResponse::Ok().content_type(XML).body(form.xml))
        }
        .await,
    )
}

async fn invitation_manifest(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (token, asked) = path.into_inner();
    reply(
        async {
            only(invitation_form(&state, &req, token).await?, &asked)?;
            Ok(empty_manifest())
        }
        .await,
    )
}

async fn invitation_submission_head(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    reply(
        async {
            limit(&state, &req)?;
            let token = path.into_inner();
            state
                .db(move |conn| invitations::check_token(conn, &token))
                .await?;
            Ok(HttpResponse::NoContent().finish())
        }
        .await,
    )
}

/// One instance of the invitation's survey: 201 once it is stored as the response (also for
/// a resubmission of the same instance).
async fn invitation_submission(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            limit(&state, &req)?;
            let xml = instance_xml(&req, &body)?;
            let done = invitations::collect_response(&state.app, path.into_inner(), xml).await?;
            if done.created {
                state
                    .metrics
                    .response_submitted(crate::web::metrics::Via::OpenRosa);
            }
            Ok(received(&done))
        }
        .await,
    )
}
