//! Integration tests of the reference server over real HTTP: one binary, one shared server (see `support`).

mod admin_support;
mod oauth_support;
mod saml_support;
mod support;

mod admin_csrf;
mod admin_flow;
mod admin_permissions;
mod admin_tokens;
mod bulk;
mod crud;
mod discovery;
mod errors;
mod etag;
mod groups;
mod oauth_apps;
mod oauth_authorize;
mod oauth_browser;
mod oauth_jwt_bearer;
mod oauth_mcp;
mod oauth_resources;
mod oauth_token;
mod pagination;
mod patch;
mod persistence;
mod robustness;
mod saml_login;
mod saml_logout_post;
mod saml_manage;
mod saml_metadata_url;
mod search;
mod snapshots;
mod urls;
mod webdriver;
