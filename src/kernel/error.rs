//! One error discipline for the whole crate.
//!
//! - The domain and the engines it calls return [`AppError`]: a kind of failure (the
//!   request is wrong, not allowed, not there, in conflict, too much, or the server failed)
//!   with a sentence for a person and, where fields are at fault, one problem per field
//!   name. It knows nothing of HTTP or actix.
//! - An internal failure carries its cause as an `anyhow` chain (`Internal`); the chain
//!   names the failing operation, never request data.
//! - The web layer (`web::error`) maps each kind to a status and the JSON body
//!   `{"error": code, "message": sentence, "fields": {name: problem}}` (pages render
//!   the same sentence), logs internal causes and never sends them to the client.
//! - The CLI prints the whole cause chain (`{:#}`) and exits non-zero.
//! - Engines with their own failure vocabulary (survey `Problem`s with file and line, mail
//!   transport errors) keep it and are mapped where the domain calls them.

use std::collections::BTreeMap;

pub type Fields = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { message: String, fields: Fields },
    #[error("authentication required")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Unprocessable { message: String, fields: Fields },
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

static NO_FIELDS: Fields = BTreeMap::new();

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest {
            message: message.into(),
            fields: Fields::new(),
        }
    }

    /// A 400 about one named field.
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        let mut fields = Fields::new();
        fields.insert(field.to_string(), problem.clone());
        AppError::BadRequest {
            message: format!("{field}: {problem}"),
            fields,
        }
    }

    pub fn unprocessable(message: impl Into<String>, fields: Fields) -> Self {
        AppError::Unprocessable {
            message: message.into(),
            fields,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden("you do not have access to this resource".into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "bad_request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Gone(_) => "gone",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Unprocessable { .. } => "invalid",
            AppError::TooManyRequests(_) => "rate_limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The sentence a client may see: never the cause of an internal error.
    pub fn client_message(&self) -> String {
        match self {
            AppError::Unauthorized(m) => m.clone(),
            AppError::Internal(_) => {
                "something went wrong on the server; the problem has been logged".into()
            }
            other => other.to_string(),
        }
    }

    pub fn fields(&self) -> &Fields {
        match self {
            AppError::BadRequest { fields, .. } | AppError::Unprocessable { fields, .. } => fields,
            _ => &NO_FIELDS,
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound("not found".into()),
            other => AppError::Internal(anyhow::Error::new(other).context("database query")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %e, "database pool");
        AppError::Unavailable("the database is not reachable right now; try again shortly".into())
    }
}

/// `Ok` when no field has a problem, else a 400 listing them all.
pub fn fields_result(fields: Fields) -> Result<(), AppError> {
    if fields.is_empty() {
        return Ok(());
    }
    let message = fields
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    Err(AppError::BadRequest { message, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let e = AppError::Internal(anyhow::anyhow!("password=hunter2 in table users"));
        assert!(!e.client_message().contains("hunter2"));
        // The CLI prints the chain: the cause stays reachable.
        let chain = format!("{:#}", anyhow::Error::new(e));
        assert!(chain.contains("hunter2"), "{chain}");
    }
}
