//! Survey definitions: the data model, the TOML loader and validator, the XLSForm
//! expression language, and XLSForm import. Self-contained: nothing here depends on the
//! rest of the crate.

pub mod answers;
pub mod expr;
pub mod load;
pub mod model;
pub mod parsed;
pub mod write;
pub mod xform;
pub mod xlsform;
