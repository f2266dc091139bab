//! What offline collection (OpenRosa: ODK Collect, KoboCollect, Enketo) shares between an
//! operation's feedback form ([`crate::domain::feedback::collect_form`]) and a partner's
//! survey invitation ([`crate::domain::rounds::collect`]): a survey as a versioned XForm, and
//! what became of a submitted instance.

use crate::kernel::error::AppError;
use crate::surveys::model::Survey;
use crate::surveys::xform;
use md5::{Digest, Md5};

/// One form as a collecting app gets it.
pub struct CollectForm {
    pub form_id: String,
    pub name: String,
    pub version: String,
    pub xml: String,
    /// `md5:<hex>` of `xml`, as the OpenRosa form list gives it.
    pub hash: String,
}

/// What became of a submitted instance.
pub struct Collected {
    /// What the app shows: the feedback item's reference, or the response's id.
    pub reference: String,
    /// `false` when the instance had been stored before (a resubmission).
    pub created: bool,
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// `survey` as an XForm named `name`. Its version is the survey's version and a digest of
/// the rest, so any change to what the app shows (a text, an area list) makes the apps fetch
/// the form again. A survey an XForm cannot carry (an expression about a repeat as a whole)
/// is a 409 naming why.
pub fn form(
    survey: &Survey,
    mut opts: xform::Options,
    name: String,
) -> Result<CollectForm, AppError> {
    let unwritable = |e: xform::XFormError| {
        AppError::Conflict(format!("this form cannot be filled in offline: {e}"))
    };
    opts.version = String::new();
    let draft = xform::write(survey, &opts).map_err(unwritable)?;
    opts.version = format!("{}-{}", survey.version, &md5_hex(draft.as_bytes())[..8]);
    let xml = xform::write(survey, &opts).map_err(unwritable)?;
    Ok(CollectForm {
        form_id: survey.id.clone(),
        name,
        version: opts.version,
        hash: format!("md5:{}", md5_hex(xml.as_bytes())),
        xml,
    })
}
