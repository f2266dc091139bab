//! Downloads: a round's responses and action plan, an operation's feedback log, the
//! scores and action plans of an operation's or a cluster's rounds, as CSV or Parquet
//! (streamed while they are read) or XLSX. The rules and the tables are in
//! `crate::domain::exports`; this only picks the table and the format and sends the bytes.

use crate::domain::exports::history::Scope;
use crate::domain::exports::{self, Export, Format, Options, Query, StreamSink};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

/// How the table is written.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `true`: choice labels instead of codes (responses only; default false).
    #[param(value_type = Option<bool>)]
    pub labels: Option<String>,
    /// The language of labels: one of the round's survey languages (responses only;
    /// default each survey's first language).
    pub lang: Option<String>,
    /// `true`: a second header row of HXL hashtags (CSV and XLSX; refused for Parquet,
    /// which carries them in its metadata; default false).
    #[param(value_type = Option<bool>)]
    pub hxl: Option<String>,
}

impl ExportParams {
    fn options(self) -> Result<Options, AppError> {
        Options::parse(&Query {
            labels: self.labels,
            lang: self.lang,
            hxl: self.hxl,
        })
    }
}

/// `table.csv`, `table.xlsx` or `table.parquet`, for one of `tables`.
fn parse_file(file: &str, tables: &[&str]) -> Result<(String, Format), AppError> {
    let parsed = file.rsplit_once('.').and_then(|(t, ext)| {
        let format = match ext {
            "csv" => Format::Csv,
            "xlsx" => Format::Xlsx,
            "parquet" => Format::Parquet,
            _ => return None,
        };
        tables.contains(&t).then(|| (t.to_string(), format))
    });
    parsed.ok_or_else(|| {
        let names: Vec<String> = tables
            .iter()
            .flat_map(|t| {
                [
                    format!("{t}.csv"),
                    format!("{t}.xlsx"),
                    format!("{t}.parquet"),
                ]
            })
            .collect();
        AppError::field("file", format!("use one of {}", names.join(", ")))
    })
}

type Build = Box<dyn FnOnce(&mut crate::db::DbConnection) -> Result<Export, AppError> + Send>;

/// The channel between the blocking task that reads the database and the response body.
struct Channel {
    ready: Option<tokio::sync::oneshot::Sender<Result<String, AppError>>>,
    body: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl StreamSink for Channel {
    fn ready(&mut self, outcome: Result<String, AppError>) {
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(outcome);
        }
    }

    fn chunk(&mut self, bytes: Vec<u8>) -> bool {
        self.body.blocking_send(Ok(Bytes::from(bytes))).is_ok()
    }
}

fn attachment(format: Format, name: &str) -> actix_web::HttpResponseBuilder {
    let mut r = HttpResponse::Ok();
    r.content_type(format.content_type()).insert_header((
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{name}\""),
    ));
    r
}

/// Sends the export as CSV or Parquet, streamed page by page, or as XLSX once written.
async fn send(state: &State, format: Format, build: Build) -> Result<HttpResponse, AppError> {
    if format == Format::Xlsx {
        let (name, bytes) = state
            .db(move |conn| exports::write_xlsx(conn, build))
            .await?;
        return Ok(attachment(format, &name).body(bytes));
    }
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (body_tx, mut body_rx) = tokio::sync::mpsc::channel(4);
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut sink = Channel {
            ready: Some(ready_tx),
            body: body_tx.clone(),
        };
        let result = match pool.get() {
            Ok(mut conn) => exports::write_stream(&mut conn, format, build, &mut sink),
            Err(e) => {
                sink.ready(Err(e.into()));
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "export ended early");
            // The reader must see a broken download, not a complete-looking short file.
            let _ = body_tx.blocking_send(Err(std::io::Error::other("the export failed")));
        }
    });
    let name = ready_rx
        .await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("the export stopped before starting")))??;
    let body = futures_util::stream::poll_fn(move |cx| body_rx.poll_recv(cx));
    Ok(attachment(format, &name).streaming(body))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/exports/{file}", tag = "exports",
    summary = "A round's responses or action plan as CSV, XLSX or Parquet",
    description = "`responses.csv|xlsx|parquet`: one row per response (published responses only \
        while the round is open), one column per question; org type, version, language and day \
        are left empty where fewer than the framework's min_respondents rows share them. The \
        workbook adds a questions and a choices sheet. `actions.csv|xlsx|parquet`: the action \
        plan. CSV is UTF-8 with a byte-order mark; Parquet has typed columns and no HXL row \
        (`hxl=true` is refused for it). See README, Exports and feeds.",
    params(("id" = i32, Path, description = "round id"),
        ("file" = String, Path, description = "responses or actions, with .csv, .xlsx or .parquet"),
        ExportParams),
    responses(
        (status = 200, description = "the file", content(
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/vnd.apache.parquet"))),
        (status = 400, description = "a bad parameter, named in `fields`", body = ErrorBody),
        (status = 409, description = "the round is open and none of its responses is published yet", body = ErrorBody)))]
pub async fn round(
    state: State,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    params: web::Query<ExportParams>,
) -> Result<HttpResponse, AppError> {
    let (id, file) = path.into_inner();
    let (table, format) = parse_file(&file, &["responses", "actions"])?;
    let opts = params.into_inner().options()?;
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let now = crate::kernel::time::now();
    let build: Build = if table == "responses" {
        Box::new(move |conn| exports::responses::export(conn, &catalog, &actor, id, opts, now))
    } else {
        Box::new(move |conn| exports::actions::export(conn, &catalog, &actor, id, opts, now.date()))
    };
    send(&state, format, build).await
}

/// The table `table` of `scope`: its scores, action plans or (operations) feedback log.
fn scoped(state: &State, user: &CurrentUser, scope: Scope, table: &str, opts: Options) -> Build {
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let now = crate::kernel::time::now();
    match (table, scope) {
        ("feedback", Scope::Operation(slug)) => {
            Box::new(move |conn| exports::feedback::export(conn, &actor, &slug, opts, now))
        }
        ("actions", scope) => Box::new(move |conn| {
            exports::history::actions(conn, &catalog, &actor, &scope, opts, now.date())
        }),
        // `scores` (the file name was checked against the scope's tables).
        (_, scope) => Box::new(move |conn| {
            exports::history::scores(conn, &catalog, &actor, &scope, opts, now)
        }),
    }
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}/exports/{file}", tag = "exports",
    summary = "An operation's feedback log, score history or action plans as CSV, XLSX or Parquet",
    description = "`feedback`: one row per item with its workflow dates and status, without \
        contact details; sensitive items only for the operation's PSEA focal points. \
        `scores`: every round that has opened, oldest first, one row per overall, function and \
        indicator score, then the org-type breakdown of closed rounds (org types with fewer \
        than min_respondents responses left out); an open round is scored over its published \
        snapshot and marked provisional. `actions`: the action plans of all its rounds. See \
        README, Exports and feeds.",
    params(("slug" = String, Path, description = "operation slug"),
        ("file" = String, Path, description = "feedback, scores or actions, with .csv, .xlsx or .parquet"),
        ExportParams),
    responses(
        (status = 200, description = "the file", content(
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/vnd.apache.parquet"))),
        (status = 400, description = "a bad parameter, named in `fields`", body = ErrorBody),
        (status = 403, description = "the caller does not read this operation", body = ErrorBody)))]
pub async fn operation(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    params: web::Query<ExportParams>,
) -> Result<HttpResponse, AppError> {
    let (slug, file) = path.into_inner();
    let (table, format) = parse_file(&file, &["feedback", "scores", "actions"])?;
    let opts = params.into_inner().options()?;
    let build = scoped(&state, &user, Scope::Operation(slug), &table, opts);
    send(&state, format, build).await
}

#[utoipa::path(get, path = "/api/v1/clusters/{code}/exports/{file}", tag = "exports",
    summary = "The score history or action plans of a cluster's operations as CSV, XLSX or Parquet",
    description = "The tables of `GET /api/v1/operations/{slug}/exports/{file}` (`scores`, \
        `actions`) over every operation of the cluster that the caller reads: all of them for \
        its global lead, their own for a coordinator or PSEA focal point. See README, Exports \
        and feeds.",
    params(("code" = String, Path, description = "cluster code"),
        ("file" = String, Path, description = "scores or actions, with .csv, .xlsx or .parquet"),
        ExportParams),
    responses(
        (status = 200, description = "the file", content(
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/vnd.apache.parquet"))),
        (status = 400, description = "a bad parameter, named in `fields`", body = ErrorBody),
        (status = 403, description = "the caller reads no operation of this cluster", body = ErrorBody)))]
pub async fn cluster(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    params: web::Query<ExportParams>,
) -> Result<HttpResponse, AppError> {
    let (code, file) = path.into_inner();
    let (table, format) = parse_file(&file, &["scores", "actions"])?;
    let opts = params.into_inner().options()?;
    let build = scoped(&state, &user, Scope::Cluster(code), &table, opts);
    send(&state, format, build).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_pick_a_table_and_a_format() {
        let tables = ["responses", "actions"];
        assert_eq!(
            parse_file("responses.xlsx", &tables).unwrap(),
            ("responses".to_string(), Format::Xlsx)
        );
        assert_eq!(
            parse_file("actions.parquet", &tables).unwrap(),
            ("actions".to_string(), Format::Parquet)
        );
        for bad in ["responses.json", "scores.csv", "responses", ".csv"] {
            let e = parse_file(bad, &tables).unwrap_err();
            assert!(e.fields().contains_key("file"), "{bad}");
        }
    }
}
