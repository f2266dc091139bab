//! Retention: contact details are purged after a while; the item stays.

use super::*;

/// Parses `365d`, `52w`, `12h` or a bare number of days.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, "d"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not an age like 365d, 52w or 12h"))?;
    match unit {
        "d" => Ok(Duration::days(n)),
        "w" => Ok(Duration::weeks(n)),
        "h" => Ok(Duration::hours(n)),
        _ => Err(format!(
            "{s:?}: unknown unit {unit:?} (use d for days, w for weeks, h for hours)"
        )),
    }
}

/// Erases the contact details of items closed before `now - older_than`; each erasure is
/// recorded in the item's history and the audit trail. Returns how many were purged.
pub fn purge_contacts(
    conn: &mut DbConnection,
    older_than: Duration,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let cutoff = at - older_than;
    write_tx(conn, |conn| {
        let ids: Vec<i32> = feedback::table
            .filter(feedback::status.eq(FeedbackStatus::Closed.as_str()))
            .filter(feedback::closed_at.lt(cutoff))
            .filter(feedback::contact_encrypted.is_not_null())
            .select(feedback::id)
            .load(conn)?;
        for chunk in ids.chunks(500) {
            diesel::update(feedback::table.filter(feedback::id.eq_any(chunk)))
                .set((
                    feedback::contact_encrypted.eq(None::<String>),
                    feedback::contact_purged_at.eq(Some(at)),
                ))
                .execute(conn)?;
            // One row at a time: batch inserts are not available over both backends.
            for id in chunk {
                diesel::insert_into(feedback_events::table)
                    .values((
                        feedback_events::feedback_id.eq(*id),
                        feedback_events::action.eq("purge_contact"),
                        feedback_events::note
                            .eq(Some("contact details erased after the retention period")),
                        feedback_events::created_at.eq(at),
                    ))
                    .execute(conn)?;
            }
        }
        models::audit(
            conn,
            None,
            "feedback.purge_contacts",
            "feedback",
            json!({"purged": ids.len(), "older_than_hours": older_than.num_hours()}),
        )?;
        Ok(ids.len())
    })
}
