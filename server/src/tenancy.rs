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

use crate::store::{DirectoryRecord, MemberRecord, Snapshot, TokenRecord, WorkspaceRecord};

/// Prefix of SCIM bearer tokens, so leaked tokens are recognisable by secret scanners.
pub const SCIM_TOKEN_PREFIX: &str = "idc_scim_";

/// SHA-256 of a token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random SCIM bearer token.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SCIM_TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// All tenancy records.
#[derive(Debug, Default)]
pub struct Tenancy {
    pub workspaces: HashMap<String, WorkspaceRecord>,
    pub directories: HashMap<String, DirectoryRecord>,
    tokens: HashMap<[u8; 32], TokenRecord>,
    pub members: HashMap<String, MemberRecord>,
    /// (directory id, SCIM user id) → member id.
    by_scim_user: HashMap<(String, String), String>,
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
        t
    }

    /// Adds or replaces a token record; a record with the same id but another secret replaces the old secret.
    pub fn put_token(&mut self, token: TokenRecord) {
        self.tokens.retain(|_, t| t.id != token.id);
        self.tokens.insert(token.hash, token);
    }

    /// Adds or replaces a member record.
    pub fn put_member(&mut self, m: MemberRecord) {
        if let (Some(d), Some(u)) = (&m.scim_directory_id, &m.scim_user_id) {
            self.by_scim_user.insert((d.clone(), u.clone()), m.id.clone());
        }
        self.members.insert(m.id.clone(), m);
    }

    /// Removes a member record.
    pub fn remove_member(&mut self, id: &str) {
        if let Some(m) = self.members.remove(id) {
            if let (Some(d), Some(u)) = (m.scim_directory_id, m.scim_user_id) {
                self.by_scim_user.remove(&(d, u));
            }
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
        let h = hash_token(presented);
        let rec = self.tokens.get(&h)?;
        if !bool::from(rec.hash.ct_eq(&h)) || rec.revoked_at.is_some() {
            return None;
        }
        if rec.expires_at.as_deref().is_some_and(|e| e <= now().as_str()) {
            return None;
        }
        self.directories.get(&rec.directory_id)
    }
}
