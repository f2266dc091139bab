//! The action plan of a round: one row per agreed action.

use super::{Export, Options, Table};
use crate::db::DbConnection;
use crate::domain::actions::{self, ActionItem};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::render::tables::{Cell, Column, Row};
use crate::surveys::model::Catalog;
use chrono::NaiveDate;

pub(super) fn columns() -> Vec<Column> {
    [
        ("round", "#meta+round"),
        ("function", "#indicator+function+code"),
        ("indicator", "#indicator+code"),
        ("action", "#activity+description"),
        ("owner", "#org+owner"),
        ("due_date", "#date+due"),
        ("support_needed", "#meta+support"),
        ("status", "#status+code"),
        ("overdue", "#meta+overdue"),
        ("created_at", "#date+created"),
        ("updated_at", "#date+updated"),
    ]
    .into_iter()
    .map(|(n, h)| Column::new(n, h).of(super::kind_of(n)))
    .collect()
}

pub(super) fn row(a: &ActionItem, function: Option<&str>, today: NaiveDate) -> Row {
    vec![
        Cell::Int(i64::from(a.round_id)),
        Cell::opt_text(function),
        Cell::text(a.indicator.clone()),
        Cell::text(a.action.clone()),
        Cell::text(a.owner.clone()),
        a.due_date.map_or(Cell::Empty, Cell::Date),
        Cell::text(a.support_needed.clone()),
        Cell::text(a.status.as_str()),
        Cell::flag(Some(a.overdue(today))),
        Cell::Time(a.created_at),
        Cell::Time(a.updated_at),
    ]
}

/// The action plan of a round the actor may read (a few rows: read at once).
pub fn export(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    round_id: i32,
    opts: Options,
    today: NaiveDate,
) -> Result<Export, AppError> {
    opts.codes_only("the action plan")?;
    let items = actions::list(conn, actor, round_id)?;
    let framework = crate::db::models::round_by_id(conn, round_id)?
        .and_then(|r| catalog.framework(&r.framework).cloned());
    let rows = items
        .iter()
        .map(|a| {
            let function = framework
                .as_ref()
                .and_then(|f| f.function_of(&a.indicator))
                .map(|f| f.id.as_str());
            row(a, function, today)
        })
        .collect();
    Ok(Export {
        stem: format!("round-{round_id}-actions"),
        hxl: opts.hxl,
        tables: vec![Table::fixed("actions", columns(), rows)],
    })
}
