//! Notices to the PSEA focal points: each new sensitive item, and overdue acknowledgements.

use super::*;

/// Why the PSEA focal points are told about a sensitive item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A new sensitive item was received.
    New,
    /// Its acknowledgement is overdue.
    Overdue,
}

impl Notice {
    fn key(self) -> &'static str {
        match self {
            Notice::New => "psea-new",
            Notice::Overdue => "psea-overdue",
        }
    }
}

/// The PSEA focal points (enabled accounts) of an operation: (user id, email).
pub fn psea_focal_points(
    conn: &mut DbConnection,
    operation_id: i32,
) -> QueryResult<Vec<(i32, String)>> {
    use crate::db::schema::{user_operations, users};
    users::table
        .inner_join(user_operations::table)
        .filter(user_operations::operation_id.eq(operation_id))
        .filter(users::role.eq(Role::PseaFocalPoint.as_str()))
        .filter(users::disabled.eq(false))
        .order(users::id)
        .select((users::id, users::email))
        .load(conn)
}

/// One message per PSEA focal point of `op` about the sensitive item `reference`, with its
/// outbox key (once per item, notice and person). The message says only that a sensitive
/// item awaits, with a link to it; never its content.
pub fn psea_notices(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    op: &Operation,
    reference: &str,
    notice: Notice,
) -> Result<Vec<(String, lettre::Message)>, AppError> {
    let link = format!("{}/feedback/{reference}", config.public_url);
    let (subject, lead) = match notice {
        Notice::New => (
            format!("A sensitive feedback item awaits you · {}", op.name),
            format!("A sensitive feedback item was received for {}.", op.name),
        ),
        Notice::Overdue => (
            format!(
                "Overdue: a sensitive feedback item is not acknowledged · {}",
                op.name
            ),
            format!(
                "A sensitive feedback item for {} has passed its acknowledgement deadline.",
                op.name
            ),
        ),
    };
    let text = format!(
        "{lead}\n\nOnly the PSEA focal points of the operation can open it. Sign in to \
         clusterpulse to read and acknowledge it:\n{link}\n\nThis message carries no content \
         of the item on purpose.\n"
    );
    let mut out = Vec::new();
    for (user_id, email) in psea_focal_points(conn, op.id)? {
        let mail = crate::mail::Email {
            to: email,
            subject: subject.clone(),
            text: text.clone(),
            html: None,
            inline: Vec::new(),
            attachments: Vec::new(),
        };
        match crate::mail::build_message(&config.mail_from, &mail) {
            Ok(m) => out.push((format!("{}:{reference}:{user_id}", notice.key()), m)),
            Err(e) => tracing::warn!(user_id, error = %e, "PSEA notice not built"),
        }
    }
    Ok(out)
}

/// Tells the PSEA focal points about every sensitive item whose acknowledgement is overdue
/// as of `now` (once per item and person). Returns how many messages were queued.
pub fn notify_overdue_sensitive(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    use crate::db::schema::outbox;
    let due: Vec<(String, i32)> = feedback::table
        .filter(feedback::sensitive.eq(true))
        .filter(feedback::acknowledged_at.is_null())
        .filter(feedback::closed_at.is_null())
        .filter(feedback::ack_due_at.lt(now))
        .select((feedback::reference, feedback::operation_id))
        .load(conn)?;
    let mut queued = 0;
    for (reference, operation_id) in due {
        let prefix = format!("{}:{reference}:", Notice::Overdue.key());
        let already: i64 = outbox::table
            .filter(outbox::dedupe_key.like(format!("{prefix}%")))
            .count()
            .get_result(conn)?;
        if already > 0 {
            continue;
        }
        let op = models::operation_by_id(conn, operation_id)?;
        let notices = psea_notices(conn, config, &op, &reference, Notice::Overdue)?;
        queued += write_tx(conn, |conn| -> QueryResult<usize> {
            let mut n = 0;
            for (key, message) in &notices {
                if let crate::mail::EnqueueOutcome::Queued(_) =
                    crate::mail::enqueue_message(conn, "psea_notice", Some(key), message)?
                {
                    n += 1;
                }
            }
            Ok(n)
        })?;
    }
    Ok(queued)
}

/// Operations that have no enabled PSEA focal point (nobody would see their sensitive
/// items): (slug, name), for the admins' dashboard.
pub fn operations_without_psea(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    use crate::db::schema::{operations, user_operations, users};
    let covered: Vec<i32> = user_operations::table
        .inner_join(users::table)
        .filter(users::role.eq(Role::PseaFocalPoint.as_str()))
        .filter(users::disabled.eq(false))
        .select(user_operations::operation_id)
        .load(conn)?;
    Ok(operations::table
        .order(operations::slug)
        .select((operations::id, operations::slug, operations::name))
        .load::<(i32, String, String)>(conn)?
        .into_iter()
        .filter(|(id, _, _)| !covered.contains(id))
        .map(|(_, slug, name)| (slug, name))
        .collect())
}
