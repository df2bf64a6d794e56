//! End-to-end tests of the `idconform` binary.

mod faults;
mod features;
mod replay;
mod serve;
