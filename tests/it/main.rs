//! End-to-end tests of the `idconform` binary.

mod faults;
mod replay;
mod serve;
