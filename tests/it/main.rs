//! End-to-end tests of the `idconform` binary.

mod faults;
mod fuzz;
mod replay;
mod serve;
