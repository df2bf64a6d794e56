//! End-to-end tests of the `idconform` binary.

mod admin;
mod cli;
mod faults;
mod features;
mod fuzz;
mod idp;
mod idp_browser;
mod oauth;
mod replay;
mod saml;
mod serve;
// The server tests' WebDriver client, shared rather than copied; this crate uses only part of it.
#[allow(dead_code)]
#[path = "../../server/tests/it/webdriver.rs"]
mod webdriver;
