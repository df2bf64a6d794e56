//! Workspaces, SCIM directories, their bearer tokens, and workspace members, held in memory and written through to
//! the store.
//!
//! Tokens are 256-bit random values shown once; only their SHA-256 is kept. A presented token is hashed and looked up
//! by hash, and the stored hash is compared in constant time, so neither the lookup nor the comparison leaks how much
//! of a guess was right.

use std::collections::HashMap;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{
    DirectoryRecord, MemberRecord, OAuthAppRecord, OAuthCodeRecord, OAuthGrantRecord, SamlConnectionRecord,
    SamlSettingsRecord, SessionRecord, SigningKeyRecord, Snapshot, TokenRecord, WorkspaceRecord, Write,
};

/// Prefix of SCIM bearer tokens, so leaked tokens are recognisable by secret scanners.
pub const SCIM_TOKEN_PREFIX: &str = "idc_scim_";

/// SHA-256 of a token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random SCIM bearer token.
pub fn generate_token() -> String {
    format!("{SCIM_TOKEN_PREFIX}{}", random_secret())
}

/// 256 random bits, base64url without padding: session ids and token secrets.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Scopes a SCIM token gets when none are asked for.
pub const DEFAULT_SCIM_SCOPES: [&str; 2] = ["scim:read", "scim:write"];

/// All tenancy records.
#[derive(Debug, Default)]
pub struct Tenancy {
    pub workspaces: HashMap<String, WorkspaceRecord>,
    pub directories: HashMap<String, DirectoryRecord>,
    tokens: HashMap<[u8; 32], TokenRecord>,
    pub members: HashMap<String, MemberRecord>,
    /// (directory id, SCIM user id) → member id.
    by_scim_user: HashMap<(String, String), String>,
    /// Dashboard sessions by the SHA-256 of their cookie value.
    sessions: HashMap<[u8; 32], SessionRecord>,
    /// JWT signing keys, oldest first; the last one signs.
    pub signing_keys: Vec<SigningKeyRecord>,
    /// OAuth apps by id (`client_id`).
    pub oauth_apps: HashMap<String, OAuthAppRecord>,
    /// Authorization codes by the SHA-256 of the code.
    oauth_codes: HashMap<[u8; 32], OAuthCodeRecord>,
    /// OAuth grants (refresh-token families) by id.
    pub oauth_grants: HashMap<String, OAuthGrantRecord>,
    /// SHA-256 of every refresh token, current or rotated out → its grant id.
    refresh_index: HashMap<[u8; 32], String>,
    /// Revoked access-token ids → when they expire anyway (seconds since the epoch).
    revoked_jtis: HashMap<String, i64>,
    /// SAML IdP connections by id.
    pub saml_connections: HashMap<String, SamlConnectionRecord>,
    /// SAML enforcement by workspace id (absent: not enforced, no domains).
    pub saml_settings: HashMap<String, SamlSettingsRecord>,
}

impl Tenancy {
    /// Rebuilds from a store snapshot.
    pub fn from_snapshot(snap: &Snapshot) -> Self {
        let mut t = Tenancy::default();
        for w in &snap.workspaces {
            t.workspaces.insert(w.id.clone(), w.clone());
        }
        for d in &snap.directories {
            t.directories.insert(d.id.clone(), d.clone());
        }
        for k in &snap.tokens {
            t.put_token(k.clone());
        }
        for m in &snap.members {
            t.put_member(m.clone());
        }
        for x in &snap.sessions {
            t.sessions.insert(x.hash, x.clone());
        }
        t.signing_keys = snap.signing_keys.clone();
        for a in &snap.oauth_apps {
            t.oauth_apps.insert(a.id.clone(), a.clone());
        }
        for c in &snap.oauth_codes {
            t.oauth_codes.insert(c.hash, c.clone());
        }
        for g in &snap.oauth_grants {
            t.put_grant(g.clone());
        }
        for r in &snap.revoked_jtis {
            t.revoked_jtis.insert(r.jti.clone(), r.expires_at);
        }
        for c in &snap.saml_connections {
            t.saml_connections.insert(c.id.clone(), c.clone());
        }
        for x in &snap.saml_settings {
            t.saml_settings.insert(x.workspace_id.clone(), x.clone());
        }
        t
    }

    fn put_grant(&mut self, g: OAuthGrantRecord) {
        self.refresh_index.insert(g.current, g.id.clone());
        for h in &g.rotated {
            self.refresh_index.insert(*h, g.id.clone());
        }
        self.oauth_grants.insert(g.id.clone(), g);
    }

    /// The authorization code whose SHA-256 is `hash` (a hash-map lookup of a hash of a 256-bit secret: nothing
    /// about the secret leaks through timing).
    pub fn oauth_code(&self, hash: &[u8; 32]) -> Option<&OAuthCodeRecord> {
        self.oauth_codes.get(hash)
    }

    /// The grant a refresh token (by its SHA-256) belongs to, and whether it is the family's current token.
    pub fn grant_by_refresh(&self, hash: &[u8; 32]) -> Option<(&OAuthGrantRecord, bool)> {
        let g = self.oauth_grants.get(self.refresh_index.get(hash)?)?;
        Some((g, bool::from(g.current.ct_eq(hash))))
    }

    /// Whether an access token id was revoked.
    pub fn jti_revoked(&self, jti: &str) -> bool {
        self.revoked_jtis.contains_key(jti)
    }

    /// Applies one committed write to the records it concerns; writes to SCIM resources are not tenancy's and are
    /// ignored here.
    pub fn apply(&mut self, w: &Write) {
        match w {
            Write::PutWorkspace(r) => {
                self.workspaces.insert(r.id.clone(), r.clone());
            }
            Write::PutDirectory(r) => {
                self.directories.insert(r.id.clone(), r.clone());
            }
            Write::DeleteDirectory { id } => {
                self.directories.remove(id);
                self.tokens.retain(|_, t| &t.directory_id != id);
            }
            Write::PutToken(r) => self.put_token(r.clone()),
            Write::PutMember(r) => self.put_member(r.clone()),
            Write::DeleteMember { id } => {
                self.remove_member(id);
                self.sessions.retain(|_, s| &s.member_id != id);
            }
            Write::PutSession(r) => {
                self.sessions.insert(r.hash, r.clone());
            }
            Write::DeleteSession { hash } => {
                self.sessions.remove(hash);
            }
            Write::PutSigningKey(r) => {
                if !self.signing_keys.iter().any(|k| k.kid == r.kid) {
                    self.signing_keys.push(r.clone());
                }
            }
            Write::PutOAuthApp(r) => {
                self.oauth_apps.insert(r.id.clone(), r.clone());
            }
            Write::DeleteOAuthApp { id } => {
                self.oauth_apps.remove(id);
                self.oauth_codes.retain(|_, c| &c.app_id != id);
                self.oauth_grants.retain(|_, g| &g.app_id != id);
                let grants = &self.oauth_grants;
                self.refresh_index.retain(|_, g| grants.contains_key(g));
            }
            Write::PutOAuthCode(r) => {
                self.oauth_codes.insert(r.hash, r.clone());
            }
            Write::PutOAuthGrant(r) => self.put_grant(r.clone()),
            Write::PutRevokedJti(r) => {
                self.revoked_jtis.insert(r.jti.clone(), r.expires_at);
            }
            Write::PutSamlConnection(r) => {
                self.saml_connections.insert(r.id.clone(), r.clone());
            }
            Write::DeleteSamlConnection { id } => {
                self.saml_connections.remove(id);
            }
            Write::PutSamlSettings(r) => {
                self.saml_settings.insert(r.workspace_id.clone(), r.clone());
            }
            Write::PutResource(_) | Write::DeleteResource { .. } | Write::PutLogo(_) | Write::DeleteLogo { .. } => {}
        }
    }

    /// Every token record (revoked and expired ones included), oldest first.
    pub fn tokens(&self) -> Vec<&TokenRecord> {
        let mut v: Vec<&TokenRecord> = self.tokens.values().collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        v
    }

    /// A token record by its id.
    pub fn token_by_id(&self, id: &str) -> Option<&TokenRecord> {
        self.tokens.values().find(|t| t.id == id)
    }

    /// Hashes of a member's sessions that have expired at `now`.
    pub fn expired_sessions(&self, member_id: &str, now: &str) -> Vec<[u8; 32]> {
        self.sessions
            .values()
            .filter(|s| s.member_id == member_id && s.expires_at.as_str() <= now)
            .map(|s| s.hash)
            .collect()
    }

    /// Hashes of every session of a member.
    pub fn sessions_of(&self, member_id: &str) -> Vec<[u8; 32]> {
        self.sessions.values().filter(|s| s.member_id == member_id).map(|s| s.hash).collect()
    }

    /// The workspace's SAML connections, oldest first.
    pub fn saml_connections_of(&self, workspace_id: &str) -> Vec<&SamlConnectionRecord> {
        let mut v: Vec<&SamlConnectionRecord> =
            self.saml_connections.values().filter(|c| c.workspace_id == workspace_id).collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        v
    }

    /// The workspace that enforces SAML sign-in for an email's domain, if one does.
    pub fn saml_enforced_for(&self, email: &str) -> Option<&SamlSettingsRecord> {
        let domain = email.rsplit_once('@')?.1.to_ascii_lowercase();
        self.saml_settings.values().find(|s| s.enforced && s.domains.contains(&domain))
    }

    /// The session whose cookie value hashes to `hash`, compared in constant time, if it has not expired at `now`.
    pub fn session(&self, presented: &str, now: &str) -> Option<&SessionRecord> {
        let h = hash_token(presented);
        let rec = self.sessions.get(&h)?;
        if !bool::from(rec.hash.ct_eq(&h)) || rec.expires_at.as_str() <= now {
            return None;
        }
        Some(rec)
    }

    /// Adds or replaces a token record; a record with the same id but another secret replaces the old secret.
    pub fn put_token(&mut self, token: TokenRecord) {
        self.tokens.retain(|_, t| t.id != token.id);
        self.tokens.insert(token.hash, token);
    }

    /// Adds or replaces a member record.
    pub fn put_member(&mut self, m: MemberRecord) {
        if let Some(old) = self.members.get(&m.id)
            && let (Some(d), Some(u)) = (&old.scim_directory_id, &old.scim_user_id)
        {
            self.by_scim_user.remove(&(d.clone(), u.clone()));
        }
        if let (Some(d), Some(u)) = (&m.scim_directory_id, &m.scim_user_id) {
            self.by_scim_user.insert((d.clone(), u.clone()), m.id.clone());
        }
        self.members.insert(m.id.clone(), m);
    }

    /// Removes a member record.
    pub fn remove_member(&mut self, id: &str) {
        if let Some(m) = self.members.remove(id)
            && let (Some(d), Some(u)) = (m.scim_directory_id, m.scim_user_id)
        {
            self.by_scim_user.remove(&(d, u));
        }
    }

    /// The member provisioned by SCIM user `user_id` of directory `dir`.
    pub fn member_for_scim_user(&self, dir: &str, user_id: &str) -> Option<&MemberRecord> {
        self.by_scim_user.get(&(dir.to_owned(), user_id.to_owned())).and_then(|id| self.members.get(id))
    }

    /// The directory a presented bearer token grants access to, if the token is known, not revoked and not
    /// expired at `now()` (RFC 3339 strings compare chronologically when written in the same UTC form; `now` is only
    /// asked for when the token has an expiry).
    pub fn authenticate(&self, presented: &str, now: impl FnOnce() -> String) -> Option<&DirectoryRecord> {
        self.authenticate_token(presented, now).map(|(d, _)| d)
    }

    /// Like [`Tenancy::authenticate`], with the token's record (for its scopes).
    pub fn authenticate_token(
        &self,
        presented: &str,
        now: impl FnOnce() -> String,
    ) -> Option<(&DirectoryRecord, &TokenRecord)> {
        let h = hash_token(presented);
        let rec = self.tokens.get(&h)?;
        if !bool::from(rec.hash.ct_eq(&h)) || rec.revoked_at.is_some() {
            return None;
        }
        if rec.expires_at.as_deref().is_some_and(|e| e <= now().as_str()) {
            return None;
        }
        self.directories.get(&rec.directory_id).map(|d| (d, rec))
    }
}
