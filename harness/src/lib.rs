//! idconform harness: conformance checks that drive any SCIM 2.0 service provider and any OAuth 2.0 authorization
//! server over HTTP, the runners that select and execute them, mock Okta and Entra SCIM clients, a mock OAuth
//! client, scenario replay, initial-sync load, and the reports they produce.
//!
//! The harness never imports the reference server: a check that passes against the embedded server means the same
//! against a third party.

pub mod check;
pub mod features;
pub mod fuzz;
pub mod http;
pub mod idp;
pub mod model;
pub mod oauth;
pub mod replay;
pub mod report;
pub mod runner;
pub mod saml;
pub mod suites;
pub mod sync;
pub mod target;

pub use check::{Check, Level, Outcome, Spec};
pub use report::{Format, Report};
pub use runner::{Options, Profile, RunError, run};
pub use target::{Deviation, Target};
