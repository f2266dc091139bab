//! The kernel: what every layer may use and that uses nothing of the crate but itself.
pub mod access;
pub mod error;
pub mod logging;
pub mod secrets;
pub mod text;
pub mod time;
pub mod vocab;
