//! `GET /api/v1/openapi.json`: the API contract, derived from the handlers' `#[utoipa::path]`
//! annotations and the request and response types themselves (`ToSchema`), so it cannot
//! drift from what the server sends. A unit test below checks that it documents exactly the
//! routes the route table registers; schemathesis (`scripts/schemathesis.sh`) checks that the
//! running server keeps to it.

use crate::web::api::{
    actions, areas, charter, collectors, directory, directory_edit, exports, feedback,
    intercluster, membership, rounds, scorecards, scores, surveys, tokens, totp, users,
};
use crate::web::auth;
use actix_web::HttpResponse;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "clusterpulse API",
        version = "1",
        description = "Coordination performance surveys, community feedback and scorecards. \
            Authenticate with `Authorization: Bearer <token>` (tokens: `clusterpulse token create`) \
            or the session cookie from `POST /api/v1/session` (then send `X-CSRF-Token` on writes). \
            Errors are always `{error, message, fields?}`; times are RFC 3339 UTC."
    ),
    paths(
        document,
        auth::create_session, auth::get_session, auth::delete_session, auth::delete_sessions, auth::change_password, auth::create_session_totp,
        tokens::list, tokens::create, tokens::revoke, totp::enrol, totp::confirm, totp::disable,
        users::request_reset, users::list, users::invite, users::update,
        directory::list_clusters, directory::create_cluster, directory::get_cluster,
        directory::list_operations, directory::create_operation, directory::get_operation,
        directory::list_organizations, directory::create_organization,
        directory_edit::update_cluster, directory_edit::update_operation,
        directory_edit::update_organization, directory_edit::merge_organization,
        areas::get, areas::replace,
        collectors::list, collectors::create, collectors::revoke,
        surveys::list, surveys::get, surveys::xlsform, surveys::list_frameworks, surveys::get_framework,
        surveys::upload, surveys::list_uploads, surveys::get_upload, surveys::publish,
        rounds::list, rounds::create, rounds::get, rounds::open, rounds::close,
        rounds::progress, rounds::invite, rounds::remind, rounds::submit,
        scores::json, scores::csv, scores::chart,
        charter::create, charter::list, charter::invite, charter::close, charter::scores,
        intercluster::country, intercluster::action_plan, intercluster::consolidated_report,
        actions::list, actions::create, actions::update,
        feedback::submit, feedback::list, feedback::status, feedback::get, feedback::event,
        feedback::metrics, feedback::metrics_chart,
        scorecards::send, scorecards::chart, scorecards::outbox,
        exports::round, exports::operation, exports::cluster,
        membership::list, membership::add, membership::import, membership::get, membership::update,
        membership::end, membership::checklist, membership::tick, membership::enter,
        membership::grid, membership::links,
    ),
    components(schemas(crate::web::error::ErrorBody)),
    modifiers(&Conventions),
    security(("bearer" = []), ("cookie" = [])),
    tags(
        (name = "session", description = "Signing in and out"),
        (name = "users", description = "Staff accounts: invitations, roles and scopes, disabling (admins)"),
        (name = "directory", description = "Clusters, operations, partner organizations"),
        (name = "definitions", description = "Survey and framework definitions (public)"),
        (name = "rounds", description = "Survey rounds, invitations, responses"),
        (name = "charter", description = "A global cluster's service charter, rated by its country clusters"),
        (name = "intercluster", description = "A country's clusters side by side; consolidated and action-plan reports"),
        (name = "scores", description = "Scores, charts, action plans"),
        (name = "feedback", description = "Community feedback and complaints"),
        (name = "scorecards", description = "Scorecards by email, the outbox"),
        (name = "membership", description = "Cluster membership: the register, the minimum commitments' self-assessment, onboarding"),
        (name = "exports", description = "Responses, feedback and action plans as CSV or XLSX"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// What every operation shares, added once instead of on each handler: the security schemes,
/// and the error replies any operation of its kind can give (all with the one error body).
struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::web::auth::SESSION_COOKIE,
                "the session cookie; writes also need the X-CSRF-Token header",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_params = path.contains('{');
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_error_replies(op, has_params);
            }
        }
    }
}

fn add_error_replies(op: &mut Operation, has_params: bool) {
    // `security(())` on a handler: anonymous callers are served (public routes).
    let public = op
        .security
        .as_ref()
        .is_some_and(|reqs| reqs.iter().any(is_empty_requirement));
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
    });
    let has_body = op.request_body.is_some();
    let mut replies: Vec<(&str, &str)> = Vec::new();
    if has_body || has_query || has_params {
        replies.push(("400", "malformed request; `fields` names each problem"));
    }
    if !public || op.security.as_ref().is_some_and(|r| r.len() > 1) {
        replies.push(("401", "not signed in (or the token is not valid)"));
        replies.push(("403", "signed in, but not allowed"));
    }
    if has_params || has_query || has_body {
        replies.push((
            "404",
            "a thing named in the request does not exist (or is not visible to the caller)",
        ));
    }
    if has_body {
        replies.push(("413", "the body is larger than the route's limit"));
        replies.push(("415", "the body is not sent as application/json"));
        replies.push((
            "422",
            "the content is not valid; `fields` names each problem",
        ));
    }
    if public {
        replies.push(("429", "too many requests from this address"));
    }
    for (status, description) in replies {
        if !op.responses.responses.contains_key(status) {
            let reply = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    Content::new(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody")))),
                )
                .build();
            op.responses
                .responses
                .insert(status.to_string(), RefOr::T(reply));
        }
    }
}

fn is_empty_requirement(req: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(req).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

/// The document, built once.
pub fn spec_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    summary = "This document (OpenAPI 3.1)",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec_json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The document names each schema by its Rust type name, and two types of one name
    /// silently share one schema (the last registered wins): every reply of the other type
    /// then breaks its documented shape. So no two documented types may share a name.
    #[test]
    fn no_two_documented_types_share_a_name() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let mut documented = false;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    documented = true;
                } else if line.starts_with("#[schema(as") {
                    // Renamed in the document: its name is its own.
                    documented = false;
                } else if documented && !line.starts_with("#[") && !line.starts_with("///") {
                    let name = line
                        .strip_prefix("pub struct ")
                        .or_else(|| line.strip_prefix("pub enum "))
                        .and_then(|rest| {
                            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                                .next()
                        });
                    if let Some(name) = name {
                        seen.entry(name.to_string())
                            .or_default()
                            .push(file.display().to_string());
                    }
                    documented = false;
                }
            }
        }
        assert!(
            seen.len() > 50,
            "the scan found only {} documented types",
            seen.len()
        );
        let clashes: Vec<_> = seen.iter().filter(|(_, files)| files.len() > 1).collect();
        assert!(
            clashes.is_empty(),
            "documented types sharing a name: {clashes:?}"
        );
    }

    fn documented() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(spec_json()).unwrap();
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
        out
    }

    #[test]
    fn documents_exactly_the_registered_api_routes() {
        let registered: BTreeSet<(String, String)> =
            crate::web::routes::prefixed("/api/v1", crate::web::api::route_list())
                .into_iter()
                .map(|(m, p)| (m.to_string(), p))
                .collect();
        let documented = documented();
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        let phantom: Vec<_> = documented.difference(&registered).collect();
        assert!(
            undocumented.is_empty(),
            "routes without #[utoipa::path] in ApiDoc: {undocumented:?}"
        );
        assert!(
            phantom.is_empty(),
            "documented but not registered: {phantom:?}"
        );
    }

    #[test]
    fn every_operation_has_typed_replies_and_errors() {
        let doc: serde_json::Value = serde_json::from_str(spec_json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                let success: Vec<_> = responses.keys().filter(|k| k.starts_with('2')).collect();
                assert!(!success.is_empty(), "{method} {path}: no success reply");
                for (status, r) in responses {
                    if status.starts_with('4') {
                        assert_eq!(
                            r["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{method} {path} {status}"
                        );
                    }
                }
                let file = &op["requestBody"]["content"]["application/octet-stream"];
                if !file.is_null() {
                    // A file sent as the body: bytes, refused with 400 naming `file`.
                    assert!(responses.contains_key("400"), "{method} {path}");
                    assert!(responses.contains_key("413"), "{method} {path}");
                    assert_eq!(file["schema"]["format"], "binary", "{method} {path}");
                } else if op.get("requestBody").is_some() {
                    assert!(responses.contains_key("422"), "{method} {path}");
                    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                    assert!(
                        schema.get("$ref").is_some(),
                        "{method} {path}: untyped body"
                    );
                }
            }
        }
        // Responses are the real types, not free-form objects.
        let round = &doc["components"]["schemas"]["RoundView"];
        assert!(round["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "closes_at"));
        let detail = &doc["components"]["schemas"]["ItemDetail"];
        assert!(detail.to_string().contains("history"), "{detail}");
    }

    #[test]
    fn public_routes_are_marked_public() {
        let doc: serde_json::Value = serde_json::from_str(spec_json()).unwrap();
        let op = &doc["paths"]["/api/v1/responses"]["post"];
        assert_eq!(op["security"], serde_json::json!([{}]));
        assert!(op["responses"].get("401").is_none());
        let op = &doc["paths"]["/api/v1/rounds"]["get"];
        assert!(op.get("security").is_none(), "inherits the global schemes");
        assert!(op["responses"].get("401").is_some());
    }
}
