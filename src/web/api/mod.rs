//! The JSON API under `/api/v1`.

pub mod actions;
pub mod directory;
pub mod feedback;
pub mod openapi;
pub mod rounds;
pub mod scorecards;
pub mod scores;
pub mod surveys;

use super::auth;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi::document))
        .service(
            web::resource("/session")
                .route(web::post().to(auth::create_session))
                .route(web::get().to(auth::get_session))
                .route(web::delete().to(auth::delete_session)),
        )
        .service(
            web::resource("/clusters")
                .route(web::get().to(directory::list_clusters))
                .route(web::post().to(directory::create_cluster)),
        )
        .route("/clusters/{code}", web::get().to(directory::get_cluster))
        .route(
            "/clusters/{code}/scorecard/charts/{file}",
            web::get().to(scorecards::chart),
        )
        .route("/scorecards/send", web::post().to(scorecards::send))
        .route("/outbox", web::get().to(scorecards::outbox))
        .service(
            web::resource("/operations")
                .route(web::get().to(directory::list_operations))
                .route(web::post().to(directory::create_operation)),
        )
        .route(
            "/operations/{slug}",
            web::get().to(directory::get_operation),
        )
        .route(
            "/operations/{slug}/feedback/metrics",
            web::get().to(feedback::metrics),
        )
        .route(
            "/operations/{slug}/feedback/charts/{file}",
            web::get().to(feedback::metrics_chart),
        )
        .service(
            web::resource("/organizations")
                .route(web::get().to(directory::list_organizations))
                .route(web::post().to(directory::create_organization)),
        )
        .route("/surveys", web::get().to(surveys::list))
        .route("/surveys/{id}", web::get().to(surveys::get))
        .route("/frameworks", web::get().to(surveys::list_frameworks))
        .route("/frameworks/{id}", web::get().to(surveys::get_framework))
        .service(
            web::resource("/rounds")
                .route(web::get().to(rounds::list))
                .route(web::post().to(rounds::create)),
        )
        .route("/rounds/{id}", web::get().to(rounds::get))
        .route("/rounds/{id}/open", web::post().to(rounds::open))
        .route("/rounds/{id}/close", web::post().to(rounds::close))
        .route("/rounds/{id}/progress", web::get().to(rounds::progress))
        .route("/rounds/{id}/invitations", web::post().to(rounds::invite))
        .route("/rounds/{id}/remind", web::post().to(rounds::remind))
        .route("/rounds/{id}/scores", web::get().to(scores::json))
        .route("/rounds/{id}/scores.csv", web::get().to(scores::csv))
        .route("/rounds/{id}/charts/{file}", web::get().to(scores::chart))
        .service(
            web::resource("/rounds/{id}/actions")
                .route(web::get().to(actions::list))
                .route(web::post().to(actions::create)),
        )
        .route(
            "/rounds/{id}/actions/{action}",
            web::patch().to(actions::update),
        )
        .service(
            web::resource("/responses")
                .app_data(
                    web::JsonConfig::default()
                        .limit(crate::web::BODY_LIMIT_SUBMISSION)
                        .error_handler(|e, _| crate::error::json_error(e).into()),
                )
                .route(web::post().to(rounds::submit)),
        )
        .service(
            web::resource("/feedback")
                .app_data(
                    web::JsonConfig::default()
                        .limit(crate::web::BODY_LIMIT_SUBMISSION)
                        .error_handler(|e, _| crate::error::json_error(e).into()),
                )
                .route(web::get().to(feedback::list))
                .route(web::post().to(feedback::submit)),
        )
        .route(
            "/feedback/status/{reference}",
            web::get().to(feedback::status),
        )
        .route("/feedback/{reference}", web::get().to(feedback::get))
        .route(
            "/feedback/{reference}/events",
            web::post().to(feedback::event),
        );
}

/// Times in the API are RFC 3339 UTC.
pub fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
