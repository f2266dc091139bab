//! Rendering: HTML templates (handlebars, escaping on) and the interface strings in the
//! four languages, tables as CSV, XLSX or Parquet (exports), and QR codes (SVG).

pub mod i18n;
pub mod parquet;
pub mod qr;
pub mod tables;
pub mod templates;
