//! Offline collection (OpenRosa): the operation's feedback form as an XForm for a
//! collector's app, and the instances it sends back, stored as items exactly like the web
//! form's (same checks, sealing, priority, deadline and notices).
//!
//! The form is `aap-feedback` with the operation's areas as cascading selects (districts
//! filtered by the region chosen, `other` always offered), its labels in every language
//! with the operation's default language first. Its version is the survey's version and a
//! digest of the rest, so editing the areas list makes the apps fetch the form again.
//!
//! An instance's `meta/instanceID` is its idempotency key within the operation: sending it
//! again with the same answers (the app never saw the reply) is answered as a success with
//! the first item's reference and stores nothing; the same id with other answers is a 409.
//! The item's language is the operation's default (ODK instances do not say which language
//! the form was shown in).

use super::intake::{check_item, store_with, NewItem, Provenance};
use super::*;
use crate::db::models::{Collector, CollectorSubmission};
use crate::domain::areas::{Areas, OTHER};
use crate::surveys::xform::{self, Dynamic, DynamicChoice};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub use crate::domain::offline::{CollectForm, Collected};

/// The operation's areas as dynamic choices for `admin1` and `admin2`.
fn area_choices(areas: &Areas, languages: &[String]) -> BTreeMap<String, Dynamic> {
    let mut out = BTreeMap::new();
    if areas.is_empty() {
        return out;
    }
    let named = |name: &str| -> crate::surveys::model::Text {
        languages
            .iter()
            .map(|l| (l.clone(), name.to_string()))
            .collect()
    };
    let other = || DynamicChoice {
        value: OTHER.into(),
        label: languages
            .iter()
            .map(|l| (l.clone(), crate::render::i18n::t(l, "fb_area_other").into()))
            .collect(),
        parent: None,
    };
    let level = |list: &[crate::domain::areas::Area]| -> Vec<DynamicChoice> {
        list.iter()
            .map(|a| DynamicChoice {
                value: a.pcode.clone(),
                label: named(&a.name),
                parent: a.parent.clone(),
            })
            .chain(std::iter::once(other()))
            .collect()
    };
    out.insert(
        "admin1".into(),
        Dynamic {
            choices: level(&areas.admin1),
            filter_by: None,
        },
    );
    out.insert(
        "admin2".into(),
        Dynamic {
            choices: level(&areas.admin2),
            filter_by: Some("admin1".into()),
        },
    );
    out
}

/// The feedback form of `op` for collectors.
pub fn collect_form(
    conn: &mut DbConnection,
    catalog: &Catalog,
    op: &Operation,
) -> Result<CollectForm, AppError> {
    let survey = catalog
        .survey(FORM_ID)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the {FORM_ID} form is not loaded")))?;
    let areas = crate::domain::areas::load(conn, op.id)?;
    let opts = xform::Options {
        version: String::new(),
        default_language: op.default_language.clone(),
        dynamic: area_choices(&areas, &survey.languages),
    };
    let lang = validation::language(survey, op.default_language.as_deref().unwrap_or(""));
    let name = survey
        .title
        .get(lang)
        .cloned()
        .unwrap_or_else(|| survey.id.clone());
    crate::domain::offline::form(survey, opts, format!("{name} — {}", op.name))
}

/// Stores one instance sent by `collector` (already authenticated, for `op`).
pub fn collect_submission(
    conn: &mut DbConnection,
    catalog: &Catalog,
    config: &crate::config::Config,
    collector: &Collector,
    op: &Operation,
    instance_xml: &str,
) -> Result<Collected, AppError> {
    let survey = catalog
        .survey(FORM_ID)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the {FORM_ID} form is not loaded")))?;
    let instance = xform::read_instance(survey, instance_xml)
        .map_err(|e| AppError::field("xml_submission_file", e.0))?;
    let digest = hex::encode(Sha256::digest(
        Value::Object(instance.answers.clone()).to_string(),
    ));
    let earlier = |conn: &mut DbConnection| -> Result<Option<Collected>, AppError> {
        let row: Option<CollectorSubmission> = collector_submissions::table
            .filter(collector_submissions::operation_id.eq(op.id))
            .filter(collector_submissions::instance_id.eq(&instance.instance_id))
            .select(CollectorSubmission::as_select())
            .first(conn)
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        if row.digest != digest {
            return Err(AppError::Conflict(format!(
                "instance {} was already received with other answers",
                instance.instance_id
            )));
        }
        let reference: String = feedback::table
            .find(row.feedback_id)
            .select(feedback::reference)
            .first(conn)?;
        Ok(Some(Collected {
            reference,
            created: false,
        }))
    };
    if let Some(done) = earlier(conn)? {
        return Ok(done);
    }
    let language = validation::language(survey, op.default_language.as_deref().unwrap_or(""));
    let checked = check_item(conn, survey, op, language, &instance.answers)?;
    let provenance = Provenance {
        collector_id: collector.id,
        instance_id: &instance.instance_id,
        digest: &digest,
        via: &collector.name,
    };
    // Twice at most: a conflict is either the same instance stored by a concurrent request
    // (found on the second look) or, very rarely, a reference drawn twice.
    for _ in 0..2 {
        let item = NewItem {
            op,
            channel: &collector.channel,
            language,
            answers: checked.answers.clone(),
            contact: checked.contact.clone(),
            admin1: checked.admin1.clone(),
            admin2: checked.admin2.clone(),
            actor: None,
            at: now(),
        };
        match store_with(conn, config, item, Some(&provenance)) {
            Ok(done) => {
                crate::domain::collectors::touch(conn, collector.id)?;
                return Ok(Collected {
                    reference: done.reference,
                    created: true,
                });
            }
            Err(AppError::Conflict(_)) => {
                if let Some(done) = earlier(conn)? {
                    return Ok(done);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "could not store a collected instance"
    )))
}
