//! A round's scores as a table (the OData feed's `Scores`): the overall score, each
//! function and each indicator, as `GET /api/v1/rounds/{id}/scores` has them (provisional
//! snapshot while the round is open; no org-type breakdown before it closes).

use super::{Export, Table};
use crate::db::DbConnection;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::render::tables::{Cell, Column, Row};
use crate::scoring::RoundScores;
use crate::surveys::model::Catalog;

pub(super) fn columns() -> Vec<Column> {
    [
        ("level", "#meta+level"),
        ("id", "#indicator+code"),
        ("parent", "#indicator+function+code"),
        ("score", "#indicator+score"),
        ("status", "#status+code"),
        ("n", "#reached+respondents"),
        ("ci_low", "#indicator+score+ci_low"),
        ("ci_high", "#indicator+score+ci_high"),
    ]
    .into_iter()
    .map(|(n, h)| Column::new(n, h).of(super::kind_of(n)))
    .collect()
}

fn row(level: &str, id: &str, parent: &str, score: Option<f64>, status: &str, n: usize) -> Row {
    vec![
        Cell::text(level),
        Cell::text(id),
        Cell::text(parent),
        score.map_or(Cell::Empty, Cell::Num),
        Cell::text(status),
        Cell::Int(n as i64),
        Cell::Empty,
        Cell::Empty,
    ]
}

fn with_ci(mut r: Row, ci: Option<[f64; 2]>) -> Row {
    if let Some([lo, hi]) = ci {
        r[6] = Cell::Num(lo);
        r[7] = Cell::Num(hi);
    }
    r
}

/// The rows of `s`: overall, then each function followed by its indicators.
pub(super) fn table_rows(s: &RoundScores) -> Vec<Row> {
    let mut rows = vec![with_ci(
        row(
            "overall",
            "overall",
            "",
            s.overall.score,
            s.overall.status.as_str(),
            s.overall.n,
        ),
        s.overall.ci95,
    )];
    for f in &s.functions {
        rows.push(with_ci(
            row("function", &f.id, "", f.score, f.status.as_str(), f.n),
            f.ci95,
        ));
        for i in &f.indicators {
            rows.push(row(
                "indicator",
                &i.id,
                &f.id,
                i.score,
                i.status.as_str(),
                i.n,
            ));
        }
    }
    rows
}

/// The scores of a round the actor may read.
pub fn export(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    round_id: i32,
) -> Result<Export, AppError> {
    let r = crate::domain::scores::result_for(conn, catalog, actor, round_id)?;
    Ok(Export {
        stem: format!("round-{round_id}-scores"),
        hxl: false,
        tables: vec![Table::fixed("scores", columns(), table_rows(&r.scores))],
    })
}
