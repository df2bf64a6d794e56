//! The idconform reference server: a multi-tenant SCIM 2.0 service provider (and, in later areas, an OAuth 2.0
//! authorization server and a SAML 2.0 service provider), served over HTTP by axum.
//!
//! Domain code lives in [`scim`] and never imports axum; [`http`] holds thin handlers that extract, call the domain
//! and convert. Storage sits behind [`store::Store`].

pub mod scim;
pub mod clock;
pub mod store;
pub mod tenancy;
