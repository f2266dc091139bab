//! HTTP side of the error discipline (see `kernel::error`): each kind of [`AppError`]
//! becomes a status and the JSON body [`ErrorBody`]; actix's own extractor failures become
//! clear 400 / 413 / 415 replies.

use crate::kernel::error::{AppError, Fields};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::collections::BTreeMap;

/// The body of every error reply.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code: bad_request, unauthorized, forbidden, not_found,
    /// method_not_allowed, conflict, gone, payload_too_large, unsupported_media_type, invalid,
    /// rate_limited, unavailable or internal.
    pub error: &'static str,
    /// One sentence for a person.
    pub message: String,
    /// Problems by field name (present when the error concerns named fields).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(required = false)]
    pub fields: Fields,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(e) = self {
            // The chain names the failing operation; it carries no request data.
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if let AppError::Unauthorized(_) = self {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let AppError::TooManyRequests(_) = self {
            resp.insert_header(("Retry-After", "60"));
        }
        resp.json(ErrorBody {
            error: self.code(),
            message: self.client_message(),
            fields: self.fields().clone(),
        })
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task was cancelled"))
    }
}

/// Maps actix's JSON extractor errors to clear 400 / 413 / 415 messages.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> AppError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::OverflowKnownLength { limit, .. } | J::Overflow { limit } => {
            AppError::PayloadTooLarge(format!(
                "the request body is larger than the limit of {} KiB",
                limit / 1024
            ))
        }
        J::ContentType => AppError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ),
        J::Deserialize(e) => {
            let msg = e.to_string();
            // serde names the missing or mistyped field: surface it as a field error.
            let field = extract_field_name(&msg);
            let mut fields = Fields::new();
            if let Some(f) = field {
                fields.insert(f, msg.clone());
            }
            AppError::BadRequest {
                message: format!("the JSON body is not valid: {msg}"),
                fields,
            }
        }
        other => AppError::bad_request(format!("the request body could not be read: {other}")),
    }
}

/// Pulls the field name out of serde messages like "missing field `name`" or
/// "unknown field `x`, expected …".
fn extract_field_name(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = start + msg[start..].find('`')?;
    Some(msg[start..end].to_string())
}

pub fn path_error(err: actix_web::error::PathError) -> AppError {
    AppError::bad_request(format!("malformed identifier in the URL: {err}"))
}

pub fn query_error(err: actix_web::error::QueryPayloadError) -> AppError {
    AppError::bad_request(format!("invalid query string: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_name_is_extracted_from_serde_messages() {
        assert_eq!(
            extract_field_name("missing field `name` at line 1 column 2"),
            Some("name".into())
        );
        assert_eq!(extract_field_name("expected value"), None);
    }

    #[test]
    fn internal_errors_are_a_500_without_their_cause() {
        let e = AppError::Internal(anyhow::anyhow!("password=hunter2 in table users"));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.client_message().contains("hunter2"));
    }
}
