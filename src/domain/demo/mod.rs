//! The demo world (`clusterpulse demo`): made-up clusters, operations, people, rounds,
//! responses and feedback, deterministic, for trying the product and for the screenshots.

pub mod charter;
pub mod feedback;
pub mod membership;
pub mod world;

pub use world::{seed_demo, upsert_demo_user, DemoCredentials};
