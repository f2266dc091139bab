//! The responses of a round: one row per response, one column per question.
//!
//! What a row says about its respondent is what a response row stores (survey, version,
//! org type, language, day of submission) and nothing else: no response id (a client-chosen
//! UUID that its submitter, and whoever holds the invitation token, could recognise), no
//! email, organization or invitation. Rows come in the order of the response ids, which are
//! random, so their order says nothing about when or by whom.
//!
//! Small groups are not singled out: org type, version, language and day together are
//! quasi-identifiers, so they are generalised until every combination shown is shared by at
//! least `min_respondents` rows of the same survey. A row gives up its day first, then its
//! language, then its version, then its org type (an empty cell). Counts come from one
//! grouped query, so the rule costs nothing per row.
//!
//! An open round exports its published responses only (the snapshot rule,
//! `crate::domain::snapshots`); before the first snapshot there is nothing to export (409).

use super::columns::{self, Answer, Spec};
use super::{Export, Options, Pager, Table, PAGE_ROWS};
use crate::db::schema::responses;
use crate::db::DbConnection;
use crate::domain::response_store;
use crate::domain::rounds::manage::{round_for, Access};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::vocab::RoundState;
use crate::render::tables::{Cell, Column, Kind, Row};
use crate::surveys::model::{Catalog, Survey};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text};
use std::collections::HashMap;

/// One combination of the stored quasi-identifiers, with its count.
#[derive(Debug, Clone, QueryableByName)]
pub struct Group {
    #[diesel(sql_type = Text)]
    pub survey_id: String,
    #[diesel(sql_type = Integer)]
    pub survey_version: i32,
    #[diesel(sql_type = Text)]
    pub org_type: String,
    #[diesel(sql_type = Text)]
    pub language: String,
    /// `YYYY-MM-DD`.
    #[diesel(sql_type = Text)]
    pub day: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// How many of a row's quasi-identifiers it shows, in the order org type, version,
/// language, day (4: all, 0: none).
type Level = u8;

const SQLITE_GROUPS: &str = "SELECT survey_id, survey_version, org_type, language, \
    date(submitted_at) AS day, COUNT(*) AS n FROM responses \
    WHERE round_id = ? AND (snapshot IS NOT NULL OR ?) GROUP BY 1, 2, 3, 4, 5";
const POSTGRES_GROUPS: &str = "SELECT survey_id, survey_version, org_type, language, \
    to_char(submitted_at, 'YYYY-MM-DD') AS day, COUNT(*) AS n FROM responses \
    WHERE round_id = $1 AND (snapshot IS NOT NULL OR $2) GROUP BY 1, 2, 3, 4, 5";

fn groups(conn: &mut DbConnection, round_id: i32, all: bool) -> QueryResult<Vec<Group>> {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(SQLITE_GROUPS)
            .bind::<Integer, _>(round_id)
            .bind::<Bool, _>(all)
            .load(c),
        DbConnection::Postgres(c) => diesel::sql_query(POSTGRES_GROUPS)
            .bind::<Integer, _>(round_id)
            .bind::<Bool, _>(all)
            .load(c),
    }
}

fn dims(g: &Group) -> [String; 4] {
    [
        g.org_type.clone(),
        g.survey_version.to_string(),
        g.language.clone(),
        g.day.clone(),
    ]
}

/// The key a row shows at `level`: its survey and its first `level` dimensions.
fn shown(survey: &str, dims: &[String; 4], level: Level) -> (String, Vec<String>) {
    (survey.to_string(), dims[..level as usize].to_vec())
}

/// The level of each group, lowered until every combination shown covers at least `m`
/// rows. A too-small combination brings down every group that shares its shorter prefix
/// (so the language of all `ingo` rows is hidden together, never the one odd row's alone).
/// Rows that show nothing must be a crowd too, or the counts by org type that progress
/// publishes would tell whose they are: the smallest org type still shown joins them.
pub fn generalise(groups: &[Group], m: i64) -> Vec<Level> {
    let mut levels: Vec<Level> = vec![4; groups.len()];
    let all_dims: Vec<[String; 4]> = groups.iter().map(dims).collect();
    let same_prefix = |i: usize, j: usize, len: usize| {
        groups[i].survey_id == groups[j].survey_id && all_dims[i][..len] == all_dims[j][..len]
    };
    loop {
        let mut freq: HashMap<(String, Vec<String>), i64> = HashMap::new();
        for ((g, d), l) in groups.iter().zip(&all_dims).zip(&levels) {
            *freq.entry(shown(&g.survey_id, d, *l)).or_default() += g.n;
        }
        let count = |i: usize, l: Level| {
            freq.get(&shown(&groups[i].survey_id, &all_dims[i], l))
                .copied()
                .unwrap_or(0)
        };
        let small = (0..groups.len()).find(|&i| levels[i] > 0 && count(i, levels[i]) < m);
        if let Some(i) = small {
            let l = levels[i];
            // Level 1 shows the org type alone: only that org type's rows give it up.
            let keep = if l == 1 { 1 } else { l as usize - 1 };
            for (j, level) in levels.iter_mut().enumerate() {
                if *level >= l && same_prefix(i, j, keep) {
                    *level = l - 1;
                }
            }
            continue;
        }
        let masked = |survey: &str| {
            freq.get(&(survey.to_string(), Vec::new()))
                .copied()
                .unwrap_or(0)
        };
        let thin = (0..groups.len()).find(|&i| {
            let z = masked(&groups[i].survey_id);
            z > 0 && z < m
        });
        let pull = thin.and_then(|i| {
            (0..groups.len())
                .filter(|&j| levels[j] > 0 && groups[j].survey_id == groups[i].survey_id)
                .min_by_key(|&j| {
                    (0..groups.len())
                        .filter(|&k| levels[k] > 0 && same_prefix(j, k, 1))
                        .map(|k| groups[k].n)
                        .sum::<i64>()
                })
        });
        let Some(j) = pull else {
            return levels;
        };
        for (k, level) in levels.iter_mut().enumerate() {
            if same_prefix(j, k, 1) {
                *level = 0;
            }
        }
    }
}

/// The definition a response answered: the catalog's when it is that version, else the
/// stored one.
fn definition(
    conn: &mut DbConnection,
    catalog: &Catalog,
    id: &str,
    version: i32,
) -> Result<Option<Survey>, AppError> {
    if let Some(s) = catalog.survey(id).filter(|s| s.version as i32 == version) {
        return Ok(Some(s.clone()));
    }
    crate::domain::catalog::stored_version(conn, id, version as u32).map_err(AppError::Internal)
}

struct Rows {
    round_id: i32,
    published_only: bool,
    after: Option<String>,
    specs: Vec<Spec>,
    /// Question name → index in `specs`.
    spec_index: HashMap<String, usize>,
    opts: Options,
    m: i64,
    /// The level of each group by [`group_key`], computed before the first page (so the
    /// header goes out before the grouped count runs).
    levels: Option<HashMap<String, Level>>,
    done: bool,
}

/// The key of a group, written into `out`: survey, version, org type, language, day.
fn group_key(out: &mut String, survey: &str, version: i32, org: &str, lang: &str, day: &str) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(
        out,
        "{survey}\u{1f}{version}\u{1f}{org}\u{1f}{lang}\u{1f}{day}"
    );
}

/// The level of every group of the round's exported responses.
fn levels(
    conn: &mut DbConnection,
    round_id: i32,
    all: bool,
    m: i64,
) -> QueryResult<HashMap<String, Level>> {
    let groups = groups(conn, round_id, all)?;
    let levels = generalise(&groups, m);
    Ok(groups
        .into_iter()
        .zip(levels)
        .map(|(g, l)| {
            let mut key = String::new();
            group_key(
                &mut key,
                &g.survey_id,
                g.survey_version,
                &g.org_type,
                &g.language,
                &g.day,
            );
            (key, l)
        })
        .collect())
}

type Meta = (String, String, i32, String, String, NaiveDateTime);

/// `YYYY-MM-DD` of `day` into `out` (what the grouped count's `date()` gives).
fn write_day(out: &mut String, day: chrono::NaiveDate) {
    use chrono::Datelike;
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "{:04}-{:02}-{:02}", day.year(), day.month(), day.day());
}

impl Rows {
    fn row(
        &self,
        meta: &Meta,
        answers: &[Option<Answer>],
        key: &mut String,
        day_buf: &mut String,
    ) -> Row {
        let (_, survey, version, org, lang, at) = meta;
        let day = at.date();
        write_day(day_buf, day);
        group_key(key, survey, *version, org, lang, day_buf);
        let level = self
            .levels
            .as_ref()
            .and_then(|l| l.get(key.as_str()))
            .copied()
            .unwrap_or(0);
        let mut row: Row = Vec::with_capacity(8 + self.specs.len());
        row.push(Cell::text(survey.as_str()));
        row.push(if level >= 1 {
            Cell::text(org.as_str())
        } else {
            Cell::Empty
        });
        row.push(if level >= 2 {
            Cell::Int(i64::from(*version))
        } else {
            Cell::Empty
        });
        row.push(if level >= 3 {
            Cell::text(lang.as_str())
        } else {
            Cell::Empty
        });
        row.push(if level >= 4 {
            Cell::Date(day)
        } else {
            Cell::Empty
        });
        for (spec, answer) in self.specs.iter().zip(answers) {
            columns::push_cells(&mut row, spec, answer.as_ref(), &self.opts);
        }
        row
    }
}

impl Pager for Rows {
    fn next_page(&mut self, conn: &mut DbConnection) -> Result<Option<Vec<Row>>, AppError> {
        if self.done {
            return Ok(None);
        }
        if self.levels.is_none() {
            self.levels = Some(levels(conn, self.round_id, !self.published_only, self.m)?);
        }
        let mut q = responses::table
            .filter(responses::round_id.eq(self.round_id))
            .select((
                (
                    responses::uuid,
                    responses::survey_id,
                    responses::survey_version,
                    responses::org_type,
                    responses::language,
                    responses::submitted_at,
                ),
                responses::answers,
            ))
            .order(responses::uuid)
            .limit(PAGE_ROWS)
            .into_boxed();
        if self.published_only {
            q = q.filter(responses::snapshot.is_not_null());
        }
        if let Some(after) = &self.after {
            q = q.filter(responses::uuid.gt(after.clone()));
        }
        let page: Vec<(Meta, String)> = q.load(conn)?;
        if page.len() < PAGE_ROWS as usize {
            self.done = true;
        }
        if page.is_empty() {
            return Ok(None);
        }
        // One slot per (response of the page, question): the page's answers side by side.
        let width = self.specs.len();
        let mut slots: Vec<Option<Answer>> = Vec::new();
        slots.resize_with(page.len() * width, || None);
        for (r, (_, stored)) in page.iter().enumerate() {
            let row = &mut slots[r * width..(r + 1) * width];
            response_store::each_answer(stored, |question, value| {
                if let Some(&q) = self.spec_index.get(question) {
                    row[q] = Some(Answer::from_stored(value));
                }
            })?;
        }
        let (mut key, mut day) = (String::new(), String::new());
        let rows = page
            .iter()
            .enumerate()
            .map(|(i, (m, _))| self.row(m, &slots[i * width..(i + 1) * width], &mut key, &mut day))
            .collect();
        self.after = page.last().map(|(m, _)| m.0.clone());
        Ok(Some(rows))
    }
}

fn meta_columns() -> Vec<Column> {
    vec![
        Column::new("survey", "#meta+survey"),
        Column::new("org_type", "#org+type"),
        Column::new("survey_version", "#meta+version").of(Kind::Int),
        Column::new("language", "#meta+lang"),
        Column::new("submitted_on", "#date+reported").of(Kind::Date),
    ]
}

/// The responses export of a round the actor may read; 409 for an open round before its
/// first snapshot.
pub fn export(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    round_id: i32,
    opts: Options,
    at: NaiveDateTime,
) -> Result<Export, AppError> {
    build(conn, catalog, actor, round_id, opts, at, true)
}

/// [`export`], or with `refuse_unpublished` false an empty table for an open round before
/// its first snapshot (the OData feed, which a dashboard refreshes on a schedule).
pub fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    round_id: i32,
    opts: Options,
    at: NaiveDateTime,
    refuse_unpublished: bool,
) -> Result<Export, AppError> {
    let (round, _) = round_for(conn, actor, round_id, Access::Read)?;
    let open = round.effective_state(at) != RoundState::Closed;
    let m = catalog
        .framework(&round.framework)
        .map_or(3, |f| i64::from(f.min_respondents.max(1)));
    let published = || {
        let mut q = responses::table
            .filter(responses::round_id.eq(round.id))
            .into_boxed();
        if open {
            q = q.filter(responses::snapshot.is_not_null());
        }
        q
    };
    let total: i64 = published().count().get_result(conn)?;
    if open && total == 0 && refuse_unpublished {
        return Err(AppError::Conflict(format!(
            "round {} is open and none of its responses is published yet: an open round's \
             responses are released in batches of at least {m} (DESIGN.md, Scoring, open \
             rounds), so export again when more have arrived or once the round is closed",
            round.id
        )));
    }
    // The round's surveys as they are now, then every older version that was answered.
    let mut versions: Vec<(String, i32)> = round
        .survey_ids()
        .into_iter()
        .filter_map(|id| catalog.survey(&id).map(|s| (id, s.version as i32)))
        .collect();
    let answered: Vec<(String, i32)> = published()
        .select((responses::survey_id, responses::survey_version))
        .distinct()
        .load(conn)?;
    for v in answered {
        if !versions.contains(&v) {
            versions.push(v);
        }
    }
    let mut defs = Vec::new();
    for (id, version) in &versions {
        defs.extend(definition(conn, catalog, id, *version)?);
    }
    let mut languages: Vec<&str> = defs
        .iter()
        .flat_map(|d| d.languages.iter().map(String::as_str))
        .collect();
    languages.dedup();
    if let Some(lang) = &opts.lang {
        if !languages.contains(&lang.as_str()) {
            let mut allowed = languages.clone();
            allowed.sort();
            allowed.dedup();
            return Err(AppError::field(
                "lang",
                format!(
                    "the round's surveys are in {}; {lang:?} is not one of them",
                    allowed.join(", ")
                ),
            ));
        }
    }
    let specs = columns::specs(&defs);
    let mut cols = meta_columns();
    cols.extend(columns::columns(&specs, &opts));
    let (qcols, qrows) = columns::question_sheet(&specs, &opts);
    let (ccols, crows) = columns::choice_sheet(&specs, &opts);
    let hxl = opts.hxl;
    let spec_index = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    let rows = Rows {
        round_id: round.id,
        published_only: open,
        after: None,
        specs,
        spec_index,
        opts,
        m,
        levels: None,
        done: false,
    };
    Ok(Export {
        stem: format!("round-{}-responses", round.id),
        hxl,
        tables: vec![
            Table {
                name: "responses",
                columns: cols,
                rows: total as u64,
                pager: Box::new(rows),
            },
            Table::fixed("questions", qcols, qrows),
            Table::fixed("choices", ccols, crows),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(org: &str, lang: &str, day: &str, n: i64) -> Group {
        Group {
            survey_id: "s".into(),
            survey_version: 1,
            org_type: org.into(),
            language: lang.into(),
            day: day.into(),
            n,
        }
    }

    #[test]
    fn every_combination_shown_covers_min_respondents() {
        let groups = vec![
            g("ingo", "en", "2026-01-01", 3),
            g("ingo", "en", "2026-01-02", 1),
            g("ingo", "fr", "2026-01-02", 2),
            g("un", "en", "2026-01-01", 1),
            g("nngo", "ar", "2026-01-03", 5),
        ];
        let levels = generalise(&groups, 3);
        // The ingo rows give up day and language together; the lone un row shows nothing,
        // and the smallest org type still shown (nngo) joins it so that the rows showing
        // nothing are three or more.
        assert_eq!(levels, vec![2, 2, 2, 0, 0]);
        let mut freq: HashMap<(String, Vec<String>), i64> = HashMap::new();
        for (g, l) in groups.iter().zip(&levels) {
            *freq.entry(shown(&g.survey_id, &dims(g), *l)).or_default() += g.n;
        }
        for (key, n) in freq {
            assert!(n >= 3, "{key:?} {n}");
        }
        // Fewer rows than min_respondents in all: nothing to hide among, nothing shown.
        assert_eq!(generalise(&[g("un", "en", "2026-01-01", 2)], 3), vec![0]);
    }
}
