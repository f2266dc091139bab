//! Surveys added without file access: an uploaded XLSForm or TOML file is checked with the
//! rules of `surveys check`, kept as a draft to preview in every language, then published
//! as the survey's next version. Surveys read from files stay read-only here.

use crate::db::models::audit;
use crate::db::schema::{survey_definitions as sd, survey_uploads as su};
use crate::db::{write_tx, DbConnection};
use crate::domain::catalog::{fingerprint, LiveCatalog, ORIGIN_UPLOAD};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::time::{now, rfc3339};
use crate::surveys::load::{self, Locations, Problem, Source};
use crate::surveys::model::{Survey, SurveyKind};
use crate::surveys::xlsform;
use diesel::prelude::*;
use serde::Serialize;

/// What an upload became: the definition to preview and what the import decided.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadView {
    pub id: i32,
    pub survey_id: String,
    /// The version it is (or will be, once published).
    pub version: i32,
    pub file_name: String,
    /// What the import decided or left out (XLSForm rows it could not carry over, texts
    /// copied from the default language, …).
    pub notes: Vec<String>,
    /// Whether a round can use it: a performance survey of a framework.
    pub usable_in_rounds: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; absent while it is a draft.
    pub published_at: Option<String>,
    pub survey: Survey,
}

/// Checks an uploaded file and keeps it as a draft. Refused with a 400 on the field `file`
/// naming the file, sheet and row (XLSForm) or line (TOML) of every problem; a 409 when the
/// id belongs to a survey file or the content equals the published version.
pub fn upload(
    conn: &mut DbConnection,
    live: &LiveCatalog,
    actor: &Actor,
    file_name: &str,
    bytes: &[u8],
) -> Result<UploadView, AppError> {
    actor.require_admin()?;
    let file_name = crate::kernel::text::file_base_name(file_name, "upload");
    let (mut survey, notes) = read(&file_name, bytes)?;
    if live.is_from_files(&survey.id) {
        return Err(AppError::Conflict(format!(
            "survey {:?} comes from the server's survey files and cannot be replaced by an \
             upload; give the form another id (form_id in the XLSForm settings, id in TOML)",
            survey.id
        )));
    }
    check_against_catalog(live, &survey, &file_name)?;
    write_tx(conn, |conn| {
        let latest: Option<(i32, String)> = sd::table
            .filter(sd::survey_id.eq(&survey.id))
            .order(sd::version.desc())
            .select((sd::version, sd::definition))
            .first(conn)
            .optional()?;
        if let Some((v, definition)) = &latest {
            let published: Survey = serde_json::from_str(definition)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored survey: {e}")))?;
            survey.version = published.version;
            if fingerprint(&published) == fingerprint(&survey) {
                return Err(AppError::Conflict(format!(
                    "this is the same as the published version {v} of survey {:?}: nothing to \
                     publish",
                    survey.id
                )));
            }
            survey.version = (*v as u32 + 1).max(survey.version);
        }
        let version = survey.version as i32;
        let definition = serde_json::to_string(&survey)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("survey to JSON: {e}")))?;
        let notes_json = serde_json::to_string(&notes)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("notes to JSON: {e}")))?;
        let id: i32 = diesel::insert_into(su::table)
            .values((
                su::survey_id.eq(&survey.id),
                su::version.eq(version),
                su::file_name.eq(&file_name),
                su::definition.eq(&definition),
                su::notes.eq(&notes_json),
                su::uploaded_by.eq(actor.id),
                su::created_at.eq(now()),
            ))
            .returning(su::id)
            .get_result(conn)?;
        audit(
            conn,
            Some(actor.id),
            "survey.upload",
            &format!("survey:{}", survey.id),
            serde_json::json!({"upload": id, "version": version}),
        )?;
        load_view(conn, id)
    })
}

/// One upload, for its preview.
pub fn get(conn: &mut DbConnection, actor: &Actor, id: i32) -> Result<UploadView, AppError> {
    actor.require_admin()?;
    load_view(conn, id)
}

/// The latest uploads, newest first.
pub fn recent(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<UploadView>, AppError> {
    actor.require_admin()?;
    let ids: Vec<i32> = su::table
        .order(su::id.desc())
        .limit(20)
        .select(su::id)
        .load(conn)?;
    ids.into_iter().map(|id| load_view(conn, id)).collect()
}

/// Publishes a draft as the survey's next version; the catalog of this instance changes at
/// once (others at their scheduler's next tick).
pub fn publish(
    conn: &mut DbConnection,
    live: &LiveCatalog,
    actor: &Actor,
    id: i32,
) -> Result<UploadView, AppError> {
    actor.require_admin()?;
    let view = write_tx(conn, |conn| {
        let view = load_view(conn, id)?;
        if view.published_at.is_some() {
            return Err(AppError::Conflict(format!(
                "upload {id} was already published as version {} of survey {:?}",
                view.version, view.survey_id
            )));
        }
        let taken: i64 = sd::table
            .filter(sd::survey_id.eq(&view.survey_id))
            .filter(sd::version.ge(view.version))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AppError::Conflict(format!(
                "version {} of survey {:?} was published after this upload; upload the file \
                 again to make it the next version",
                view.version, view.survey_id
            )));
        }
        let definition = serde_json::to_string(&view.survey)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("survey to JSON: {e}")))?;
        let at = now();
        diesel::insert_into(sd::table)
            .values((
                sd::survey_id.eq(&view.survey_id),
                sd::version.eq(view.version),
                sd::kind.eq(format!("{:?}", view.survey.kind).to_lowercase()),
                sd::fingerprint.eq(fingerprint(&view.survey)),
                sd::definition.eq(definition),
                sd::loaded_at.eq(at),
                sd::origin.eq(ORIGIN_UPLOAD),
            ))
            .execute(conn)?;
        diesel::update(su::table.find(id))
            .set(su::published_at.eq(at))
            .execute(conn)?;
        audit(
            conn,
            Some(actor.id),
            "survey.publish",
            &format!("survey:{}", view.survey_id),
            serde_json::json!({"upload": id, "version": view.version}),
        )?;
        load_view(conn, id)
    })?;
    live.refresh(conn).map_err(AppError::Internal)?;
    Ok(view)
}

/// The file name as shown in messages: its last path part, at most 200 characters.
/// The survey in an uploaded file, with the import's notes.
fn read(file_name: &str, bytes: &[u8]) -> Result<(Survey, Vec<String>), AppError> {
    let refuse = |message: String| AppError::field("file", message);
    if bytes.is_empty() {
        return Err(refuse(format!("{file_name}: the file is empty")));
    }
    let workbook = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if workbook {
        let imported =
            xlsform::import_bytes(file_name, bytes).map_err(|e| refuse(e.to_string()))?;
        let mut notes = imported.notes;
        notes.extend(imported.skipped.iter().map(|s| format!("skipped: {s}")));
        return Ok((imported.survey, notes));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        refuse(format!(
            "{file_name}: neither an XLSForm workbook (.xlsx, .xls) nor a TOML survey in UTF-8"
        ))
    })?;
    // An upload is not named after its id the way a file in surveys/ is, so it is read
    // without the file-name rule and the messages name the uploaded file instead.
    let survey = load::parse_survey(&Source::new("", text))
        .map_err(|problems| refuse(listed(renamed(problems, file_name))))?;
    Ok((survey, Vec::new()))
}

/// The checks across definitions (framework known, indicators covered, shared questions
/// scored alike), with this survey in place of any earlier version.
fn check_against_catalog(
    live: &LiveCatalog,
    survey: &Survey,
    file_name: &str,
) -> Result<(), AppError> {
    let mut candidate = (*live.current()).clone();
    candidate.surveys.insert(survey.id.clone(), survey.clone());
    let problems: Vec<Problem> = load::validate_catalog(&candidate, &Locations::default())
        .into_iter()
        .filter(|p| p.file == format!("survey \"{}\"", survey.id))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::field(
            "file",
            listed(renamed(problems, file_name)),
        ))
    }
}

fn renamed(problems: Vec<Problem>, file_name: &str) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| Problem::new(file_name, p.line, p.message))
        .collect()
}

fn listed(problems: Vec<Problem>) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn load_view(conn: &mut DbConnection, id: i32) -> Result<UploadView, AppError> {
    type Row = (
        i32,
        String,
        i32,
        String,
        String,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    );
    let row: Option<Row> = su::table
        .find(id)
        .select((
            su::id,
            su::survey_id,
            su::version,
            su::file_name,
            su::definition,
            su::notes,
            su::created_at,
            su::published_at,
        ))
        .first(conn)
        .optional()?;
    let Some((id, survey_id, version, file_name, definition, notes, created, published)) = row
    else {
        return Err(AppError::not_found(format!("no survey upload {id}")));
    };
    let bad = |e: serde_json::Error| AppError::Internal(anyhow::anyhow!("stored upload {id}: {e}"));
    let survey: Survey = serde_json::from_str(&definition).map_err(bad)?;
    Ok(UploadView {
        id,
        survey_id,
        version,
        file_name,
        notes: serde_json::from_str(&notes).map_err(bad)?,
        usable_in_rounds: survey.kind == SurveyKind::Performance && survey.framework.is_some(),
        created_at: rfc3339(created),
        published_at: published.map(rfc3339),
        survey,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_neither_form_nor_text_names_itself() {
        let e = read("photo.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 0x00]).unwrap_err();
        assert!(e.fields()["file"].contains("photo.jpg"), "{e:?}");
        let e = read("empty.toml", b"").unwrap_err();
        assert!(e.fields()["file"].contains("empty"), "{e:?}");
        let e = read("bad.toml", b"id = \"x\"\nversion = \"one\"\n").unwrap_err();
        assert!(e.fields()["file"].starts_with("bad.toml"), "{e:?}");
    }
}
