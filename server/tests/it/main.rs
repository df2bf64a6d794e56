//! Integration tests of the reference server over real HTTP: one binary, one shared server (see `support`).

mod support;

mod bulk;
mod crud;
mod discovery;
mod errors;
mod etag;
mod groups;
mod pagination;
mod patch;
mod persistence;
mod robustness;
mod search;
mod snapshots;
mod urls;
