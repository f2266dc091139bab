//! The JSON API under `/api/v1`.

pub mod actions;
pub mod areas;
pub mod charter;
pub mod collectors;
pub mod directory;
pub mod directory_edit;
pub mod exports;
pub mod feedback;
pub mod intercluster;
pub mod membership;
pub mod rounds;
pub mod scorecards;
pub mod scores;
pub mod surveys;
pub mod tokens;
pub mod totp;
pub mod users;

use super::auth;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// A JSON request body that must be an object, deserialized into `T`.
///
/// actix's `web::Json<T>` lets serde build a struct from a JSON *array* of its fields in
/// order (`[null, null]` is a valid `SendBody`); an API that triggers mail on a body like
/// that is wrong. Every JSON body of the API is an object: this extractor refuses anything
/// else with a 400, and otherwise behaves as `web::Json` (same limits, same error replies).
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            if !value.is_object() {
                return Err(crate::kernel::error::AppError::bad_request(
                    "the JSON body must be an object ({\"field\": value, …})",
                )
                .into());
            }
            serde_json::from_value(value).map(JsonObject).map_err(|e| {
                crate::web::error::json_error(actix_web::error::JsonPayloadError::Deserialize(e))
                    .into()
            })
        })
    }
}

fn submission_json() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(crate::web::BODY_LIMIT_SUBMISSION)
        .error_handler(|e, _| crate::web::error::json_error(e).into())
}

crate::web::routes::route_table! {
    // The busiest paths first: a request's path is tried against the table in this order.
    "/responses" [submission_json()] => { POST rounds::submit },
    "/feedback" [submission_json()] => { GET feedback::list, POST feedback::submit },
    "/openapi.json" => { GET crate::web::openapi::document },
    "/session" => {
        POST auth::create_session,
        GET auth::get_session,
        DELETE auth::delete_session,
    },
    "/session/password" => { POST auth::change_password },
    "/session/totp" => { POST auth::create_session_totp },
    "/account/totp" => { POST totp::enrol, DELETE totp::disable },
    "/account/totp/confirm" => { POST totp::confirm },
    "/tokens" => { GET tokens::list, POST tokens::create },
    "/tokens/{id}" => { DELETE tokens::revoke },
    "/password-resets" => { POST users::request_reset },
    "/users" => { GET users::list },
    "/users/invitations" => { POST users::invite },
    "/users/{id}" => { PATCH users::update },
    "/sessions" => {
        DELETE auth::delete_sessions,
    },
    "/clusters" => { GET directory::list_clusters, POST directory::create_cluster },
    "/clusters/{code}" => {
        GET directory::get_cluster,
        PATCH directory_edit::update_cluster,
    },
    "/clusters/{code}/scorecard/charts/{file}" => { GET scorecards::chart },
    "/clusters/{code}/exports/{file}" => { GET exports::cluster },
    "/scorecards/send" => { POST scorecards::send },
    "/outbox" => { GET scorecards::outbox },
    "/operations" => { GET directory::list_operations, POST directory::create_operation },
    "/operations/{slug}" => {
        GET directory::get_operation,
        PATCH directory_edit::update_operation,
    },
    "/operations/{slug}/areas" [web::PayloadConfig::new(crate::web::BODY_LIMIT_AREAS)] => {
        GET areas::get,
        PUT areas::replace,
    },
    "/operations/{slug}/collectors" => { GET collectors::list, POST collectors::create },
    "/operations/{slug}/collectors/{id}" => { DELETE collectors::revoke },
    "/operations/{slug}/feedback/metrics" => { GET feedback::metrics },
    "/operations/{slug}/feedback/charts/{file}" => { GET feedback::metrics_chart },
    "/operations/{slug}/exports/{file}" => { GET exports::operation },
    "/operations/{slug}/members" => { GET membership::list, POST membership::add },
    "/operations/{slug}/members/import" => { POST membership::import },
    "/operations/{slug}/members/{id}" => { GET membership::get, PATCH membership::update },
    "/operations/{slug}/members/{id}/end" => { POST membership::end },
    "/operations/{slug}/members/{id}/onboarding" => {
        GET membership::checklist,
        POST membership::tick,
    },
    "/operations/{slug}/members/{id}/self-assessments" => { POST membership::enter },
    "/operations/{slug}/self-assessments" => { GET membership::grid },
    "/operations/{slug}/self-assessments/links" => { POST membership::links },
    "/organizations" => {
        GET directory::list_organizations,
        POST directory::create_organization,
    },
    "/organizations/{id}" => { PATCH directory_edit::update_organization },
    "/organizations/{id}/merge" => { POST directory_edit::merge_organization },
    "/surveys" => { GET surveys::list },
    "/surveys/uploads" [web::PayloadConfig::new(crate::surveys::xlsform::MAX_FILE_BYTES as usize)] => {
        GET surveys::list_uploads,
        POST surveys::upload,
    },
    "/surveys/uploads/{id}" => { GET surveys::get_upload },
    "/surveys/uploads/{id}/publish" => { POST surveys::publish },
    "/surveys/{id}" => { GET surveys::get },
    "/surveys/{id}/xlsform" => { GET surveys::xlsform },
    "/frameworks" => { GET surveys::list_frameworks },
    "/frameworks/{id}" => { GET surveys::get_framework },
    "/clusters/{code}/charter-rounds" => { GET charter::list, POST charter::create },
    "/charter-rounds/{id}/invitations" => { POST charter::invite },
    "/countries/{country}" => { GET intercluster::country },
    "/countries/{country}/action-plan" => { GET intercluster::action_plan },
    "/reports/consolidated" => { GET intercluster::consolidated_report },
    "/charter-rounds/{id}/close" => { POST charter::close },
    "/charter-rounds/{id}/scores" => { GET charter::scores },
    "/rounds" => { GET rounds::list, POST rounds::create },
    "/rounds/{id}" => { GET rounds::get },
    "/rounds/{id}/open" => { POST rounds::open },
    "/rounds/{id}/close" => { POST rounds::close },
    "/rounds/{id}/progress" => { GET rounds::progress },
    "/rounds/{id}/invitations" => { POST rounds::invite },
    "/rounds/{id}/remind" => { POST rounds::remind },
    "/rounds/{id}/scores" => { GET scores::json },
    "/rounds/{id}/scores.csv" => { GET scores::csv },
    "/rounds/{id}/charts/{file}" => { GET scores::chart },
    "/rounds/{id}/exports/{file}" => { GET exports::round },
    "/rounds/{id}/actions" => { GET actions::list, POST actions::create },
    "/rounds/{id}/actions/{action}" => { PATCH actions::update },
    "/feedback/status/{reference}" => { GET feedback::status },
    "/feedback/{reference}" => { GET feedback::get },
    "/feedback/{reference}/events" => { POST feedback::event },
}
