//! End-to-end tests of the `idconform` binary.

mod admin;
mod cli;
mod faults;
mod features;
mod fuzz;
mod idp;
mod oauth;
mod replay;
mod serve;
