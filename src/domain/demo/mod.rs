//! The demo world (`clusterpulse demo`): made-up clusters, operations, people, rounds,
//! responses and feedback, deterministic, for trying the product and for the screenshots.

pub mod feedback;
