//! The domain: what clusterpulse does, independent of how it is reached.

pub mod account_links;
pub mod accounts;
pub mod actions;
pub mod areas;
pub mod audit;
pub mod catalog;
pub mod charter;
pub mod collectors;
pub mod demo;
pub mod directory;
pub mod directory_edit;
pub mod exports;
pub mod feedback;
pub mod intercluster;
pub mod invitations;
pub mod membership;
pub mod offline;
pub mod passwords;
pub mod response_store;
pub mod round_report;
pub mod rounds;
pub mod scorecards;
pub mod scores;
pub mod services;
pub mod sessions;
pub mod sign_in;
pub mod snapshots;
pub mod survey_uploads;
pub mod tokens;
pub mod totp;
pub mod users;

pub use services::Services;
