//! Community feedback and complaints (accountability to affected people): intake from the
//! public form and from staff, reference codes, the append-only workflow, who may see what,
//! encrypted contact details and their purge.
//!
//! Visibility rule (DESIGN.md): a sensitive item's content, contact details and history are
//! visible only to the PSEA focal points of its operation. For everyone else it is left out
//! of listings and lookups entirely and counts only in the metrics.

pub use crate::config::Sla;
use crate::db::models::{self, Operation};
use crate::db::schema::{collector_submissions, feedback, feedback_events, operations};
use crate::db::{write_tx, DbConnection};
use crate::kernel::access::Actor;
use crate::kernel::access::Role;
use crate::kernel::error::AppError;
use crate::kernel::time::now;
pub use crate::kernel::vocab::{FeedbackAction, FeedbackStatus};
use crate::surveys::answers::{self as validation, Mode};
use crate::surveys::model::{Catalog, Survey};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The survey definition of the public form; its question names are fixed.
pub const FORM_ID: &str = "aap-feedback";
pub const CATEGORIES: [&str; 6] = [
    "question",
    "suggestion",
    "complaint",
    "appreciation",
    "request",
    "sensitive",
];
pub const CHANNELS: [&str; 6] = ["web", "hotline", "helpdesk", "sms", "box", "email"];
/// A feedback message is at most this many characters (DESIGN.md).
pub const MAX_MESSAGE_CHARS: usize = 5000;
/// Notes, referral targets and contact details.
pub const MAX_NOTE_CHARS: usize = 2000;

pub mod metrics;
pub mod summaries;

/// The operation a public feedback form belongs to, with what its page says about it.
pub struct Desk {
    pub slug: String,
    pub operation: String,
    pub cluster: String,
    pub default_language: Option<String>,
    pub areas: crate::domain::areas::Areas,
}

/// The feedback desk of the operation at `slug`, or `None` when there is none.
pub fn desk(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<Desk>> {
    let Some(op) = models::operation_by_slug(conn, slug)? else {
        return Ok(None);
    };
    let cluster: String = crate::db::schema::clusters::table
        .find(op.cluster_id)
        .select(crate::db::schema::clusters::name)
        .first(conn)?;
    Ok(Some(Desk {
        slug: op.slug,
        operation: op.name,
        cluster,
        default_language: op.default_language,
        areas: crate::domain::areas::load(conn, op.id)?,
    }))
}

/// `sensitive` → high, `complaint` → medium, anything else → low.
pub fn priority_of(category: &str, sensitive: bool) -> &'static str {
    if sensitive || category == "sensitive" {
        "high"
    } else if category == "complaint" {
        "medium"
    } else {
        "low"
    }
}

pub mod charts;
mod collect;
pub(crate) mod crypto;
mod intake;
mod labels;
mod notices;
mod reading;
mod reference;
mod retention;
mod workflow;

pub use collect::*;
pub use crypto::{open as open_contact, seal as seal_contact};
pub use intake::*;
pub use labels::Labels;
pub use notices::*;
pub use reading::*;
pub use reference::*;
pub use retention::*;
pub use workflow::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feedback)]
pub struct Item {
    pub id: i32,
    pub reference: String,
    pub operation_id: i32,
    pub channel: String,
    pub language: String,
    pub category: String,
    pub priority: String,
    #[diesel(deserialize_as = String)]
    pub status: FeedbackStatus,
    pub sensitive: bool,
    pub message: String,
    pub answers: String,
    pub consent_to_contact: bool,
    pub contact_encrypted: Option<String>,
    pub sex: Option<String>,
    pub age_group: Option<String>,
    pub disability: Option<String>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub ack_due_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub responded_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub satisfied: Option<bool>,
    pub contact_purged_at: Option<NaiveDateTime>,
}

impl Item {
    pub fn is_open(&self) -> bool {
        self.status != FeedbackStatus::Closed
    }

    /// Not acknowledged and past the acknowledgement deadline.
    pub fn is_overdue(&self, at: NaiveDateTime) -> bool {
        self.is_open() && self.acknowledged_at.is_none() && self.ack_due_at < at
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feedback_events)]
pub struct Event {
    pub id: i32,
    pub feedback_id: i32,
    pub action: String,
    pub note: Option<String>,
    pub referred_to: Option<String>,
    pub satisfied: Option<bool>,
    pub actor_user_id: Option<i32>,
    pub created_at: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_well_formed_and_normalise() {
        for _ in 0..100 {
            let r = new_reference();
            assert_eq!(r.len(), 12);
            assert_eq!(normalize_reference(&r).as_deref(), Some(r.as_str()));
            assert_eq!(
                normalize_reference(&r.to_lowercase().replace('-', " ")).as_deref(),
                Some(r.as_str())
            );
        }
        assert_eq!(
            normalize_reference(" fb-7kq2-9xw3 ").as_deref(),
            Some("FB-7KQ2-9XW3")
        );
        assert_eq!(
            normalize_reference("7KQ29XW3").as_deref(),
            Some("FB-7KQ2-9XW3")
        );
        // O and I/L typed by mistake read as 0 and 1.
        assert_eq!(
            normalize_reference("FB-O1L2-IXW3").as_deref(),
            Some("FB-0112-1XW3")
        );
        // Digits typed on an Arabic or Persian keyboard.
        assert_eq!(
            normalize_reference("FB-٧KQ٢-٩XW۳").as_deref(),
            Some("FB-7KQ2-9XW3")
        );
        assert_eq!(normalize_reference("FB-7KQ2-9XW"), None);
        assert_eq!(normalize_reference("FB-7KQ2-9XWU"), None);
        assert_eq!(normalize_reference("' OR 1=1 --"), None);
        assert_eq!(normalize_reference("FB-7KQ2-9XWé"), None);
    }

    #[test]
    fn contact_sealing_round_trips_and_binds_the_reference() {
        let key = "a-secret-key-that-is-long-enough-0123456789";
        let sealed = seal_contact(key, "FB-AAAA-BBBB", "+967 777 123 456");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("777123") && !sealed.contains("777 123"));
        assert_eq!(
            open_contact(key, "FB-AAAA-BBBB", &sealed).as_deref(),
            Some("+967 777 123 456")
        );
        assert_eq!(open_contact(key, "FB-AAAA-CCCC", &sealed), None);
        assert_eq!(
            open_contact(
                "another-key-that-is-long-enough-0123456789",
                "FB-AAAA-BBBB",
                &sealed
            ),
            None
        );
        // Two seals of the same text differ (random nonce).
        assert_ne!(
            sealed,
            seal_contact(key, "FB-AAAA-BBBB", "+967 777 123 456")
        );
        assert_eq!(open_contact(key, "FB-AAAA-BBBB", "v1:!!"), None);
    }

    #[test]
    fn priorities_and_sla() {
        assert_eq!(priority_of("sensitive", false), "high");
        assert_eq!(priority_of("question", true), "high");
        assert_eq!(priority_of("complaint", false), "medium");
        assert_eq!(priority_of("suggestion", false), "low");
        let sla = Sla::default();
        assert_eq!(sla.hours("high"), 24);
        assert_eq!(sla.hours("medium"), 72);
        assert_eq!(sla.hours("low"), 168);
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("365d").unwrap(), Duration::days(365));
        assert_eq!(parse_age("2w").unwrap(), Duration::weeks(2));
        assert_eq!(parse_age("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_age("30").unwrap(), Duration::days(30));
        assert!(parse_age("1y").unwrap_err().contains("unknown unit"));
        assert!(parse_age("d").is_err());
    }
}
