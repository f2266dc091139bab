//! Where survey definitions come from (a folder, or the copies compiled into the binary,
//! and the surveys published by upload), and how every loaded version is kept in the
//! database.

use crate::db::schema::survey_definitions as sd;
use crate::db::{write_tx, DbConnection, Pool};
use crate::kernel::time::now;
use crate::surveys::load::{self, Problem, Source};
use crate::surveys::model::{Catalog, Survey};
use diesel::prelude::*;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

#[derive(RustEmbed)]
#[folder = "surveys/"]
#[include = "*.toml"]
#[include = "frameworks/*.toml"]
struct ShippedSurveys;

/// The shipped definitions compiled into the binary.
pub fn shipped_sources() -> (Vec<Source>, Vec<Source>) {
    let mut frameworks = Vec::new();
    let mut surveys = Vec::new();
    for name in ShippedSurveys::iter() {
        let Some(file) = ShippedSurveys::get(&name) else {
            continue;
        };
        let text = String::from_utf8_lossy(&file.data).into_owned();
        let src = Source {
            path: format!("(built-in) surveys/{name}"),
            text,
        };
        if name.starts_with("frameworks/") {
            frameworks.push(src);
        } else if !name.contains('/') {
            surveys.push(src);
        }
    }
    (frameworks, surveys)
}

/// Loads from `dir` when it exists, otherwise the built-in copies.
pub fn load_catalog(dir: &Path) -> Result<(Catalog, String), Vec<Problem>> {
    if dir.is_dir() {
        load::load_dir(dir).map(|c| (c, dir.display().to_string()))
    } else {
        let (f, s) = shipped_sources();
        load::load_sources(&f, &s).map(|c| (c, "built-in definitions".to_string()))
    }
}

/// [`load_catalog`] for entry points: invalid definitions become one error listing every
/// problem with its file and line; success is logged with where the definitions came from.
pub fn load_or_explain(dir: &Path) -> anyhow::Result<Catalog> {
    let (catalog, source) = load_catalog(dir)
        .map_err(|p| anyhow::anyhow!("survey definitions are invalid:\n{}", format_problems(&p)))?;
    tracing::info!(
        surveys = catalog.surveys.len(),
        frameworks = catalog.frameworks.len(),
        %source,
        "loaded survey definitions"
    );
    Ok(catalog)
}

pub fn fingerprint(survey: &crate::surveys::model::Survey) -> String {
    let json = serde_json::to_vec(survey).expect("survey serialises");
    hex::encode(Sha256::digest(json))
}

/// Stores each survey version not yet in the database. A survey whose content changed while
/// its version did not is refused: responses to the stored version would be misread.
pub fn store_versions(pool: &Pool, catalog: &Catalog) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    write_tx(&mut conn, |conn: &mut DbConnection| -> anyhow::Result<()> {
        let mut problems = Vec::new();
        for survey in catalog.surveys.values() {
            let fp = fingerprint(survey);
            let stored: Option<String> = sd::table
                .filter(sd::survey_id.eq(&survey.id))
                .filter(sd::version.eq(survey.version as i32))
                .select(sd::fingerprint)
                .first(conn)
                .optional()?;
            match stored {
                Some(existing) if existing == fp => {}
                Some(_) => problems.push(format!(
                    "survey {:?} version {} differs from the version {} already stored; \
                     bump `version` in its file when questions or choices change",
                    survey.id, survey.version, survey.version
                )),
                None => {
                    let latest: Option<i32> = sd::table
                        .filter(sd::survey_id.eq(&survey.id))
                        .select(diesel::dsl::max(sd::version))
                        .first(conn)?;
                    if let Some(latest) = latest {
                        if latest > survey.version as i32 {
                            problems.push(format!(
                                "survey {:?} is at version {}, older than the stored version {latest}; \
                                 versions only move forward",
                                survey.id, survey.version
                            ));
                            continue;
                        }
                    }
                    diesel::insert_into(sd::table)
                        .values((
                            sd::survey_id.eq(&survey.id),
                            sd::version.eq(survey.version as i32),
                            sd::kind.eq(format!("{:?}", survey.kind).to_lowercase()),
                            sd::fingerprint.eq(&fp),
                            sd::definition.eq(serde_json::to_string(survey)?),
                            sd::loaded_at.eq(now()),
                        ))
                        .execute(conn)?;
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(problems.join("\n")))
        }
    })
}

/// A stored survey version (for responses that answered an older version).
pub fn stored_version(
    conn: &mut DbConnection,
    survey_id: &str,
    version: u32,
) -> anyhow::Result<Option<crate::surveys::model::Survey>> {
    let def: Option<String> = sd::table
        .filter(sd::survey_id.eq(survey_id))
        .filter(sd::version.eq(version as i32))
        .select(sd::definition)
        .first(conn)
        .optional()?;
    Ok(match def {
        Some(d) => Some(serde_json::from_str(&d)?),
        None => None,
    })
}

pub fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The catalog the server works with: the definitions read at start, plus the latest
/// published version of each uploaded survey. Publishing swaps in a new catalog; other
/// instances pick it up at their next [`LiveCatalog::refresh`] (the scheduler's tick).
pub struct LiveCatalog {
    files: Arc<Catalog>,
    current: RwLock<Arc<Catalog>>,
    /// The newest `survey_definitions.id` of an upload already in `current`.
    seen: AtomicI32,
}

impl LiveCatalog {
    pub fn new(files: Catalog) -> LiveCatalog {
        let files = Arc::new(files);
        LiveCatalog {
            current: RwLock::new(files.clone()),
            files,
            seen: AtomicI32::new(0),
        }
    }

    /// The catalog as it is now; hold it for the length of one request.
    pub fn current(&self) -> Arc<Catalog> {
        self.current.read().expect("catalog lock").clone()
    }

    /// The definitions read from files at start: every framework, the public feedback form
    /// and the shipped surveys (uploads never replace these).
    pub fn files(&self) -> &Catalog {
        &self.files
    }

    /// Whether `id` is a survey read from files (these cannot be replaced by an upload).
    pub fn is_from_files(&self, id: &str) -> bool {
        self.files.surveys.contains_key(id)
    }

    /// Reads the published uploads when there are new ones. Returns whether anything
    /// changed.
    pub fn refresh(&self, conn: &mut DbConnection) -> anyhow::Result<bool> {
        let newest: Option<i32> = sd::table
            .filter(sd::origin.eq(ORIGIN_UPLOAD))
            .select(diesel::dsl::max(sd::id))
            .first(conn)?;
        let Some(newest) = newest else {
            return Ok(false);
        };
        if newest <= self.seen.load(Ordering::Acquire) {
            return Ok(false);
        }
        let rows: Vec<(String, String)> = sd::table
            .filter(sd::origin.eq(ORIGIN_UPLOAD))
            .order((sd::survey_id, sd::version))
            .select((sd::survey_id, sd::definition))
            .load(conn)?;
        let mut next = (*self.files).clone();
        for (id, definition) in rows {
            if self.is_from_files(&id) {
                tracing::warn!(survey = %id, "an uploaded survey has the id of a survey file; the file is used");
                continue;
            }
            let survey: Survey = serde_json::from_str(&definition)?;
            next.uploaded.insert(id.clone());
            next.surveys.insert(id, survey);
        }
        *self.current.write().expect("catalog lock") = Arc::new(next);
        self.seen.fetch_max(newest, Ordering::AcqRel);
        Ok(true)
    }
}

/// `survey_definitions.origin` of a version published through the web or the API.
pub const ORIGIN_UPLOAD: &str = "upload";
