//! Rendering: HTML templates (handlebars, escaping on) and the interface strings in the
//! four languages, and tables as CSV, XLSX or Parquet (exports).

pub mod i18n;
pub mod parquet;
pub mod tables;
pub mod templates;
