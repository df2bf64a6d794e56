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
