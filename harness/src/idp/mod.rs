//! Mock identity-provider SCIM clients: builders that produce the exact requests Okta and Microsoft Entra ID send
//! (their headers, paths, query strings and body shapes, quirks included), in the spirit of h2's scripted peers.
//!
//! The same builders serve the initial-sync load generator ([`crate::sync`]), the `okta` and `entra` profile checks
//! and the Gherkin steps; the scenario files in `scenarios/` carry the same shapes as data, and a test keeps the two
//! in agreement. Sources for every shape are in `scenarios/*/README.md` and `shared/idp-quirks.md` of the design.

use std::fmt;
use std::str::FromStr;

use reqwest::Method;
use serde_json::{Value, json};

use crate::http::{Request, encode};

/// The SCIM core User schema URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The SCIM core Group schema URN.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The PatchOp message URN (RFC 7644 §3.5.2).
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The extra group schema Entra puts in group create bodies.
pub const ENTRA_GROUP_URN: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// Okta's documented client User-Agent (Okta SCIM 2.0 protocol reference, every request example).
pub const OKTA_USER_AGENT: &str = "Okta SCIM Client 1.0.0";

/// The two behaviours of Entra's provisioning service for the same app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntraMode {
    /// The default behaviour: capitalised ops, string booleans, member removal by value list.
    Legacy,
    /// With `?aadOptscim062020` on the tenant URL: RFC-closer ops, path-less replace with dotted keys.
    Aad2020,
}

impl EntraMode {
    /// The mode's name on the command line and in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            EntraMode::Legacy => "legacy",
            EntraMode::Aad2020 => "aadOptscim062020",
        }
    }
}

impl FromStr for EntraMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "legacy" => Ok(EntraMode::Legacy),
            "aadOptscim062020" | "2020" => Ok(EntraMode::Aad2020),
            _ => Err(format!("unknown Entra mode {s:?} (expected legacy or aadOptscim062020)")),
        }
    }
}

/// Which identity provider a client imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idp {
    /// Okta's SCIM 2.0 client.
    Okta,
    /// Microsoft Entra ID's provisioning service, in one of its modes.
    Entra(EntraMode),
    /// Plain RFC 7644 requests, the baseline.
    Generic,
}

impl Idp {
    /// `okta`, `entra` or `generic`.
    pub fn name(self) -> &'static str {
        match self {
            Idp::Okta => "okta",
            Idp::Entra(_) => "entra",
            Idp::Generic => "generic",
        }
    }

    /// The scenario folder of this client: `okta`, `entra-legacy`, `entra-2020`, `generic`.
    pub fn folder(self) -> &'static str {
        match self {
            Idp::Okta => "okta",
            Idp::Entra(EntraMode::Legacy) => "entra-legacy",
            Idp::Entra(EntraMode::Aad2020) => "entra-2020",
            Idp::Generic => "generic",
        }
    }

    /// The client from a scenario folder name.
    pub fn from_folder(folder: &str) -> Option<Idp> {
        [Idp::Okta, Idp::Entra(EntraMode::Legacy), Idp::Entra(EntraMode::Aad2020), Idp::Generic]
            .into_iter()
            .find(|i| i.folder() == folder)
    }
}

impl fmt::Display for Idp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Idp::Entra(m) => write!(f, "entra ({})", m.as_str()),
            other => f.write_str(other.name()),
        }
    }
}

/// A user as an IdP provisions it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// `userName` (the IdP's login, usually the UPN or e-mail).
    pub user_name: String,
    /// `externalId` (Entra: the object id; Okta: its user id).
    pub external_id: String,
    /// `name.givenName`.
    pub given_name: String,
    /// `name.familyName`.
    pub family_name: String,
    /// The work e-mail.
    pub email: String,
}

impl NewUser {
    /// A user with every field derived from one login, for generated loads.
    pub fn generated(user_name: &str, external_id: &str) -> Self {
        let local = user_name.split('@').next().unwrap_or(user_name);
        NewUser {
            user_name: user_name.to_owned(),
            external_id: external_id.to_owned(),
            given_name: format!("Given{local}"),
            family_name: format!("Family{local}"),
            email: user_name.to_owned(),
        }
    }
}

/// A mock SCIM client of one identity provider: each method returns the request that IdP sends for one step of
/// its provisioning cycle. Paths are relative to the SCIM base URL (the IdP's "tenant URL").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockClient {
    /// The IdP imitated.
    pub idp: Idp,
    /// Okta's "Sync Password" option: create and update bodies carry the user's password.
    pub password_sync: bool,
}

impl MockClient {
    /// Okta's client.
    pub fn okta() -> Self {
        MockClient::of(Idp::Okta)
    }

    /// The client of an IdP, with Okta's password sync off (its default).
    pub const fn of(idp: Idp) -> Self {
        MockClient { idp, password_sync: false }
    }

    /// The same client with Okta's "Sync Password" on: creates carry the write-only `password`.
    pub const fn with_password_sync(self) -> Self {
        MockClient { password_sync: true, ..self }
    }

    /// Entra's client in a mode.
    pub fn entra(mode: EntraMode) -> Self {
        MockClient::of(Idp::Entra(mode))
    }

    /// The plain RFC 7644 client.
    pub fn generic() -> Self {
        MockClient::of(Idp::Generic)
    }

    /// The headers this IdP puts on every request (besides `Authorization` and `Content-Type`), as documented:
    /// Okta's SCIM protocol page shows `User-Agent: Okta SCIM Client 1.0.0` with `Accept: application/scim+json`
    /// and `Accept-Charset: utf-8`; Entra documents none (its `Accept` and `User-Agent` are not published, so none
    /// is invented); the generic client asks for `application/scim+json` as RFC 7644 §3.1 and §8.1 suggest.
    pub fn headers(&self) -> Vec<(String, String)> {
        let pairs: &[(&str, &str)] = match self.idp {
            Idp::Okta => {
                &[("User-Agent", OKTA_USER_AGENT), ("Accept", "application/scim+json"), ("Accept-Charset", "utf-8")]
            }
            Idp::Entra(_) => &[],
            Idp::Generic => &[("Accept", "application/scim+json")],
        };
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// The `Content-Type` of request bodies: Okta and Entra send `application/scim+json; charset=utf-8` (Okta's
    /// protocol page; Entra as seen on the wire in azure-docs #12728); RFC 7644 §8.1 names `application/scim+json`.
    pub fn content_type(&self) -> &'static str {
        match self.idp {
            Idp::Generic => "application/scim+json",
            _ => "application/scim+json; charset=utf-8",
        }
    }

    fn request(&self, method: Method, path: String) -> Request {
        let mut r = Request::new(method, path).exact();
        for (k, v) in self.headers() {
            r = r.header(&k, v);
        }
        r
    }

    fn with_body(&self, method: Method, path: String, body: &Value) -> Request {
        self.request(method, path).raw(self.content_type(), body.to_string())
    }

    fn patch(&self, path: String, ops: Value) -> Request {
        self.with_body(Method::PATCH, path, &json!({"schemas": [PATCH_URN], "Operations": ops}))
    }

    /// The op name as this IdP writes it: Entra's legacy mode capitalises it (`"Replace"`).
    fn op(&self, op: &str) -> String {
        if self.idp == Idp::Entra(EntraMode::Legacy) {
            let mut c = op.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        } else {
            op.to_owned()
        }
    }

    /// Entra's "Test connection": a filter on a random GUID, expecting 200 with an empty ListResponse.
    pub fn connection_test(&self, guid: &str) -> Request {
        self.lookup_user(guid)
    }

    /// The lookup before create: `GET /Users?filter=userName eq "…"` (Okta adds `startIndex=1&count=100`).
    pub fn lookup_user(&self, user_name: &str) -> Request {
        let filter = encode(&format!("userName eq \"{user_name}\""));
        let path = match self.idp {
            Idp::Okta => format!("/Users?filter={filter}&startIndex=1&count=100"),
            _ => format!("/Users?filter={filter}"),
        };
        self.request(Method::GET, path)
    }

    /// Entra's group lookup: `GET /Groups?excludedAttributes=members&filter=displayName eq "…"`.
    pub fn lookup_group(&self, display_name: &str) -> Request {
        let filter = encode(&format!("displayName eq \"{display_name}\""));
        let path = match self.idp {
            Idp::Entra(_) => format!("/Groups?excludedAttributes=members&filter={filter}"),
            Idp::Okta => format!("/Groups?filter={filter}&startIndex=1&count=100"),
            Idp::Generic => format!("/Groups?filter={filter}"),
        };
        self.request(Method::GET, path)
    }

    /// The create-user body this IdP sends.
    pub fn user_body(&self, u: &NewUser) -> Value {
        match self.idp {
            // Entra: the enterprise extension in `schemas`, client-sent `meta.resourceType`, `roles: []`.
            Idp::Entra(_) => json!({
                "schemas": [USER_URN, ENTERPRISE_URN],
                "externalId": u.external_id,
                "userName": u.user_name,
                "active": true,
                "displayName": format!("{} {}", u.given_name, u.family_name),
                "emails": [{"primary": true, "type": "work", "value": u.email}],
                "meta": {"resourceType": "User"},
                "name": {"formatted": format!("{} {}", u.given_name, u.family_name), "familyName": u.family_name, "givenName": u.given_name},
                "roles": []
            }),
            // Okta: `groups: []` and, when password sync is on, the password.
            Idp::Okta => {
                let mut body = json!({
                "schemas": [USER_URN],
                "userName": u.user_name,
                "name": {"givenName": u.given_name, "familyName": u.family_name},
                "emails": [{"primary": true, "value": u.email, "type": "work"}],
                "displayName": format!("{} {}", u.given_name, u.family_name),
                "locale": "en-US",
                "externalId": u.external_id,
                "groups": [],
                "active": true
                });
                // Okta's order: the password before `active`.
                if let (true, Some(o)) = (self.password_sync, body.as_object_mut()) {
                    o.remove("active");
                    o.insert("password".into(), json!(format!("Okta-{}-pw1!", u.external_id)));
                    o.insert("active".into(), json!(true));
                }
                body
            }
            Idp::Generic => json!({
                "schemas": [USER_URN],
                "userName": u.user_name,
                "externalId": u.external_id,
                "name": {"givenName": u.given_name, "familyName": u.family_name},
                "emails": [{"primary": true, "type": "work", "value": u.email}],
                "active": true
            }),
        }
    }

    /// `POST /Users` with this IdP's body.
    pub fn create_user(&self, u: &NewUser) -> Request {
        self.with_body(Method::POST, "/Users".into(), &self.user_body(u))
    }

    /// Deactivate (`active: false`) or reactivate a user as this IdP does: Entra legacy sends `"Replace"` with the
    /// string `"False"`; Entra 2020 a boolean; Okta a path-less replace.
    pub fn set_active(&self, id: &str, active: bool) -> Request {
        let path = format!("/Users/{id}");
        match self.idp {
            Idp::Entra(EntraMode::Legacy) => {
                let v = if active { "True" } else { "False" };
                self.patch(path, json!([{"op": "Replace", "path": "active", "value": v}]))
            }
            Idp::Okta => self.patch(path, json!([{"op": "replace", "value": {"active": active}}])),
            _ => self.patch(path, json!([{"op": "replace", "path": "active", "value": active}])),
        }
    }

    /// A profile update of given name and work e-mail: Entra legacy sends one op per path; Entra 2020 a path-less
    /// op with dotted keys; the generic client uses paths (Okta does GET then a full PUT: see [`Self::put_user`]).
    pub fn update_profile(&self, id: &str, given_name: &str, email: &str) -> Request {
        let path = format!("/Users/{id}");
        match self.idp {
            // The work e-mail keeps its own op; the rest goes in one path-less op keyed by attribute paths (Entra's
            // "Known issues … SCIM 2.0 protocol compliance", "Replace multiple attributes", with the flag).
            Idp::Entra(EntraMode::Aad2020) => self.patch(
                path,
                json!([
                    {"op": "replace", "path": "emails[type eq \"work\"].value", "value": email},
                    {"op": "replace", "value": {"name.givenName": given_name}}
                ]),
            ),
            _ => self.patch(
                path,
                json!([
                    {"op": self.op("replace"), "path": "name.givenName", "value": given_name},
                    {"op": self.op("replace"), "path": "emails[type eq \"work\"].value", "value": email}
                ]),
            ),
        }
    }

    /// Okta's profile update: a full PUT of the object it read, read-only attributes (`id`, `meta`, `groups`)
    /// included.
    pub fn put_user(&self, id: &str, resource: &Value) -> Request {
        self.with_body(Method::PUT, format!("/Users/{id}"), resource)
    }

    /// Sets the enterprise manager: Entra sends the bare id as the value.
    pub fn set_manager(&self, id: &str, manager_id: &str) -> Request {
        let path = format!("/Users/{id}");
        let attr = format!("{ENTERPRISE_URN}:manager");
        match self.idp {
            Idp::Entra(_) => self.patch(path, json!([{"op": self.op("add"), "path": attr, "value": manager_id}])),
            _ => self.patch(path, json!([{"op": "replace", "path": attr, "value": {"value": manager_id}}])),
        }
    }

    /// `DELETE /Users/{id}`.
    pub fn delete_user(&self, id: &str) -> Request {
        self.request(Method::DELETE, format!("/Users/{id}"))
    }

    /// `POST /Groups`: Entra with its extra schema and no members; Okta with `"members": []`.
    pub fn create_group(&self, display_name: &str, external_id: &str) -> Request {
        let body = match self.idp {
            Idp::Entra(_) => json!({
                "schemas": [GROUP_URN, ENTRA_GROUP_URN],
                "externalId": external_id,
                "displayName": display_name,
                "meta": {"resourceType": "Group"}
            }),
            Idp::Okta => json!({"schemas": [GROUP_URN], "displayName": display_name, "members": []}),
            Idp::Generic => json!({"schemas": [GROUP_URN], "displayName": display_name, "externalId": external_id}),
        };
        self.with_body(Method::POST, "/Groups".into(), &body)
    }

    /// Adds members: Entra sends `{"$ref": null, "value": …}` elements, Okta `{"value", "display"}` elements.
    pub fn add_members(&self, group_id: &str, members: &[(&str, &str)]) -> Request {
        let values: Vec<Value> = members
            .iter()
            .map(|(id, display)| match self.idp {
                Idp::Entra(_) => json!({"$ref": null, "value": id}),
                Idp::Okta => json!({"value": id, "display": display}),
                Idp::Generic => json!({"value": id}),
            })
            .collect();
        self.patch(format!("/Groups/{group_id}"), json!([{"op": self.op("add"), "path": "members", "value": values}]))
    }

    /// Removes members: Entra legacy by value list under the bare `members` path; the others with one
    /// `members[value eq "…"]` op per member.
    pub fn remove_members(&self, group_id: &str, member_ids: &[&str]) -> Request {
        let path = format!("/Groups/{group_id}");
        if self.idp == Idp::Entra(EntraMode::Legacy) {
            let values: Vec<Value> = member_ids.iter().map(|id| json!({"value": id})).collect();
            return self.patch(path, json!([{"op": "Remove", "path": "members", "value": values}]));
        }
        let ops: Vec<Value> = member_ids
            .iter()
            .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}))
            .collect();
        self.patch(path, Value::Array(ops))
    }

    /// Renames a group: Okta's path-less replace carries the read-only `id`; Entra replaces `displayName`.
    pub fn rename_group(&self, group_id: &str, display_name: &str) -> Request {
        let path = format!("/Groups/{group_id}");
        match self.idp {
            Idp::Okta => {
                self.patch(path, json!([{"op": "replace", "value": {"id": group_id, "displayName": display_name}}]))
            }
            _ => self.patch(path, json!([{"op": self.op("replace"), "path": "displayName", "value": display_name}])),
        }
    }

    /// `DELETE /Groups/{id}`.
    pub fn delete_group(&self, group_id: &str) -> Request {
        self.request(Method::DELETE, format!("/Groups/{group_id}"))
    }
}

/// The `id` of a created resource in a 201 response body, as every IdP needs it (Okta treats an empty 201 body as
/// a failure).
pub fn expect_created(status: u16, body: &str) -> Result<String, String> {
    if status != 201 {
        return Err(format!("expected 201 Created, got HTTP {status}"));
    }
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| "201 Created without an \"id\" in the body".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Request) -> Value {
        serde_json::from_str(r.body.as_deref().unwrap_or("null")).unwrap_or(Value::Null)
    }

    #[test]
    fn entra_legacy_capitalises_and_stringifies() {
        let r = MockClient::entra(EntraMode::Legacy).set_active("u1", false);
        assert_eq!(body(&r)["Operations"][0], json!({"op": "Replace", "path": "active", "value": "False"}));
        let r = MockClient::entra(EntraMode::Aad2020).set_active("u1", true);
        assert_eq!(body(&r)["Operations"][0], json!({"op": "replace", "path": "active", "value": true}));
    }

    #[test]
    fn member_removal_shapes_differ_by_mode() {
        let legacy = MockClient::entra(EntraMode::Legacy).remove_members("g", &["a", "b"]);
        assert_eq!(
            body(&legacy)["Operations"],
            json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}])
        );
        let modern = MockClient::entra(EntraMode::Aad2020).remove_members("g", &["a"]);
        assert_eq!(body(&modern)["Operations"], json!([{"op": "remove", "path": "members[value eq \"a\"]"}]));
    }

    #[test]
    fn okta_requests_carry_its_user_agent_and_paging() {
        let r = MockClient::okta().lookup_user("a@b.c");
        assert!(r.headers.iter().any(|(k, v)| k == "User-Agent" && v == OKTA_USER_AGENT));
        assert!(r.path.ends_with("&startIndex=1&count=100"), "{}", r.path);
        let rename = MockClient::okta().rename_group("g1", "New");
        assert_eq!(body(&rename)["Operations"][0]["value"]["id"], "g1");
    }

    #[test]
    fn okta_sends_the_password_only_with_password_sync() {
        let u = NewUser::generated("a@example.com", "1");
        assert!(body(&MockClient::okta().create_user(&u)).get("password").is_none());
        let with = body(&MockClient::okta().with_password_sync().create_user(&u));
        let keys: Vec<&String> = with.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys[keys.len() - 2..], ["password", "active"], "Okta's order");
    }

    #[test]
    fn folders_round_trip() {
        for idp in [Idp::Okta, Idp::Entra(EntraMode::Legacy), Idp::Entra(EntraMode::Aad2020), Idp::Generic] {
            assert_eq!(Idp::from_folder(idp.folder()), Some(idp));
        }
    }

    #[test]
    fn created_needs_an_id() {
        assert_eq!(expect_created(201, r#"{"id":"x"}"#), Ok("x".into()));
        assert!(expect_created(201, "").is_err());
        assert!(expect_created(200, r#"{"id":"x"}"#).is_err());
    }
}
