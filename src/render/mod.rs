//! Rendering: HTML templates (handlebars, escaping on) and the interface strings in the
//! four languages.

pub mod i18n;
pub mod templates;
