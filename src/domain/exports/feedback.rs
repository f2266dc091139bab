//! The feedback log of an operation: one row per item with its workflow dates and status.
//!
//! No contact details (not even whether there are any) and no staff names. Sealed
//! (sensitive) items are rows only for the operation's PSEA focal points, the same rule as
//! the inbox (`Actor::can_see_feedback`); for everyone else they are not there at all.

use super::{Export, Options, Pager, Table, PAGE_ROWS};
use crate::db::models::{self, Operation};
use crate::db::schema::feedback;
use crate::db::DbConnection;
use crate::domain::feedback::Item;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::render::tables::{Cell, Column, Row};
use chrono::NaiveDateTime;
use diesel::prelude::*;

fn columns() -> Vec<Column> {
    [
        ("reference", "#meta+id"),
        ("operation", "#sector+operation"),
        ("country", "#country+code"),
        ("channel", "#meta+channel"),
        ("language", "#meta+lang"),
        ("category", "#meta+category"),
        ("priority", "#meta+priority"),
        ("status", "#status+code"),
        ("sensitive", "#meta+sensitive"),
        ("sex", "#meta+sex"),
        ("age_group", "#meta+age"),
        ("disability", "#meta+disability"),
        ("admin1", "#adm1+code"),
        ("admin2", "#adm2+code"),
        ("created_at", "#date+reported"),
        ("ack_due_at", "#date+due"),
        ("acknowledged_at", "#date+acknowledged"),
        ("responded_at", "#date+responded"),
        ("closed_at", "#date+closed"),
        ("satisfied", "#meta+satisfied"),
        ("overdue", "#meta+overdue"),
        ("message", "#description"),
    ]
    .into_iter()
    .map(|(n, h)| Column::new(n, h).of(super::kind_of(n)))
    .collect()
}

fn row(item: &Item, op: &Operation, at: NaiveDateTime) -> Row {
    vec![
        Cell::text(item.reference.clone()),
        Cell::text(op.slug.clone()),
        Cell::text(op.country.clone()),
        Cell::text(item.channel.clone()),
        Cell::text(item.language.clone()),
        Cell::text(item.category.clone()),
        Cell::text(item.priority.clone()),
        Cell::text(item.status.as_str()),
        Cell::flag(Some(item.sensitive)),
        Cell::opt_text(item.sex.as_deref()),
        Cell::opt_text(item.age_group.as_deref()),
        Cell::opt_text(item.disability.as_deref()),
        Cell::opt_text(item.admin1.as_deref()),
        Cell::opt_text(item.admin2.as_deref()),
        Cell::Time(item.created_at),
        Cell::Time(item.ack_due_at),
        Cell::opt_time(item.acknowledged_at),
        Cell::opt_time(item.responded_at),
        Cell::opt_time(item.closed_at),
        Cell::flag(item.satisfied),
        Cell::flag(Some(item.is_overdue(at))),
        Cell::text(item.message.clone()),
    ]
}

struct Rows {
    op: Operation,
    sealed_too: bool,
    after: i32,
    at: NaiveDateTime,
    done: bool,
}

impl Rows {
    fn query(
        &self,
    ) -> feedback::BoxedQuery<'static, <DbConnection as diesel::Connection>::Backend> {
        let mut q = feedback::table
            .filter(feedback::operation_id.eq(self.op.id))
            .into_boxed();
        if !self.sealed_too {
            q = q.filter(feedback::sensitive.eq(false));
        }
        q
    }
}

impl Pager for Rows {
    fn next_page(&mut self, conn: &mut DbConnection) -> Result<Option<Vec<Row>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let items: Vec<Item> = self
            .query()
            .filter(feedback::id.gt(self.after))
            .order(feedback::id)
            .limit(PAGE_ROWS)
            .select(Item::as_select())
            .load(conn)?;
        self.done = items.len() < PAGE_ROWS as usize;
        let Some(last) = items.last() else {
            return Ok(None);
        };
        self.after = last.id;
        Ok(Some(
            items.iter().map(|i| row(i, &self.op, self.at)).collect(),
        ))
    }
}

/// The feedback log of the operation `slug`, as the actor may see it.
pub fn export(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    opts: Options,
    at: NaiveDateTime,
) -> Result<Export, AppError> {
    let op = models::operation_by_slug(conn, slug)?
        .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
    if !actor.can_read_operation(&op) {
        return Err(AppError::forbidden());
    }
    opts.codes_only("the feedback log")?;
    let rows = Rows {
        sealed_too: actor.can_see_feedback(&op, true),
        op,
        after: 0,
        at,
        done: false,
    };
    let count: i64 = rows.query().count().get_result(conn)?;
    Ok(Export {
        stem: format!("{}-feedback", rows.op.slug),
        hxl: opts.hxl,
        tables: vec![Table {
            name: "feedback",
            columns: columns(),
            rows: count as u64,
            pager: Box::new(rows),
        }],
    })
}
