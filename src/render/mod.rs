//! Rendering: HTML templates (handlebars, escaping on) and the interface strings in the
//! four languages, and tables as CSV or XLSX (exports).

pub mod i18n;
pub mod tables;
pub mod templates;
