//! A partner's survey invitation over OpenRosa, for filling it in offline with ODK Collect,
//! KoboCollect or Enketo.
//!
//! - **Address.** `/openrosa/i/{token}`, with the invitation's own token (the secret of its
//!   web link): the app needs no account, and whoever holds the link can answer either way,
//!   once.
//! - **Form.** The invitation's survey as an XForm ([`crate::surveys::xform`]), labels in
//!   every language with the invitation's language first. It is offered while the round
//!   takes responses and the invitation has none; otherwise the app is told why.
//! - **Instance.** Its `meta/instanceID` (`uuid:…`, as the apps make it) is the response
//!   id, so an instance sent again after a lost reply is a replay of the stored response, not
//!   a second one. It goes through the same checks, group commit and anonymity as the web
//!   form ([`super::submit_grouped`]): only the answers are read, never the instance's other
//!   metadata (device, user), and the response keeps only the org type of the invitation.

use super::{invitation_for_token, place_of, submit_grouped, Submitted};
use crate::db::models::{Invitation, Round};
use crate::db::DbConnection;
use crate::domain::offline::{self, CollectForm, Collected};
use crate::domain::Services;
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::kernel::vocab::RoundState;
use crate::surveys::answers as validation;
use crate::surveys::model::{Catalog, Survey};
use crate::surveys::xform;

/// Where an invitation's OpenRosa address starts (the token follows).
pub const PATH_PREFIX: &str = "/openrosa/i/";

/// Refuses an invitation that can take no response now, saying why.
fn open_for_answers(inv: &Invitation, round: &Round) -> Result<(), AppError> {
    if inv.submission_key.is_some() {
        return Err(AppError::Conflict(
            "this invitation has been answered already; thank you".into(),
        ));
    }
    match round.effective_state(now()) {
        RoundState::Closed => Err(AppError::Gone(
            "this round is closed and accepts no more responses".into(),
        )),
        RoundState::Scheduled => Err(AppError::Conflict("this round has not opened yet".into())),
        _ => Ok(()),
    }
}

fn survey_of<'a>(catalog: &'a Catalog, inv: &Invitation) -> Result<&'a Survey, AppError> {
    catalog
        .survey(&inv.survey_id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("survey of an invitation is not loaded")))
}

/// The language the invitation's form is shown in first and its instances are stored with.
fn language_of<'a>(survey: &'a Survey, inv: &Invitation) -> &'a str {
    validation::language(survey, inv.language.as_deref().unwrap_or(""))
}

/// The form of the invitation with `token`.
pub fn invitation_form(
    conn: &mut DbConnection,
    catalog: &Catalog,
    token: &str,
) -> Result<CollectForm, AppError> {
    let (inv, round) = invitation_for_token(conn, token)?;
    open_for_answers(&inv, &round)?;
    let survey = survey_of(catalog, &inv)?;
    let language = language_of(survey, &inv);
    let place = place_of(conn, &round)?;
    let title = survey
        .title
        .get(language)
        .cloned()
        .unwrap_or_else(|| survey.id.clone());
    let opts = xform::Options {
        default_language: Some(language.to_string()),
        ..Default::default()
    };
    offline::form(survey, opts, format!("{title} — {}", place.operation))
}

/// Only checks that the token is an invitation's (what an app asks before sending).
pub fn check_token(conn: &mut DbConnection, token: &str) -> Result<(), AppError> {
    invitation_for_token(conn, token).map(|_| ())
}

/// Stores one instance sent for the invitation with `token`, as a response.
pub async fn collect_response(
    svc: &Services,
    token: String,
    instance_xml: String,
) -> Result<Collected, AppError> {
    let catalog = svc.catalog.current();
    let t = token.clone();
    let inv = svc
        .blocking(move |conn| invitation_for_token(conn, &t).map(|(inv, _)| inv))
        .await?;
    let survey = survey_of(&catalog, &inv)?;
    let instance = xform::read_instance(survey, &instance_xml)
        .map_err(|e| AppError::field("xml_submission_file", e.0))?;
    let id = response_id(&instance.instance_id)?;
    let language = language_of(survey, &inv).to_string();
    let done = submit_grouped(svc, token, id, Some(language), instance.answers).await?;
    Ok(match done {
        Submitted::Created(r) => Collected {
            reference: r.id,
            created: true,
        },
        Submitted::Replayed(r) => Collected {
            reference: r.id,
            created: false,
        },
    })
}

/// The response id in an instance id: `uuid:` and a UUID (ODK Collect and Enketo), or a bare
/// UUID.
fn response_id(instance_id: &str) -> Result<String, AppError> {
    let bare = instance_id.strip_prefix("uuid:").unwrap_or(instance_id);
    uuid::Uuid::parse_str(bare)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| {
            AppError::field(
                "meta/instanceID",
                "must be uuid: followed by a UUID, as ODK Collect and Enketo write it",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::response_id;

    #[test]
    fn instance_ids_become_response_ids() {
        let id = "3f1c2a9e-8d7b-4c55-9a0e-2b6f4d1e7c80";
        assert_eq!(response_id(&format!("uuid:{id}")).unwrap(), id);
        assert_eq!(response_id(&id.to_uppercase()).unwrap(), id);
        for bad in ["", "uuid:", "uuid:not-a-uuid", "collect:3f1c2a9e"] {
            let e = response_id(bad).unwrap_err();
            assert!(e.fields().contains_key("meta/instanceID"), "{bad}");
        }
    }
}
