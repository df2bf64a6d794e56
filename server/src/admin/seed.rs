//! Seeding from a configuration file (`idconform serve --config idconform.toml`): workspaces, their local members
//! (admins and owners, passwords from environment variables) and SCIM directories (tokens from environment
//! variables). Seeding is idempotent: running it again updates what the file describes and leaves the rest alone.

use serde::Deserialize;

use super::error::{AdminError, AdminResult};
use super::{AdminService, DEPROVISION_MODES, PLANS, Role, auth, new_id};
use crate::store::{DirectoryRecord, MemberRecord, TokenRecord, WorkspaceRecord, Write};
use crate::tenancy::{DEFAULT_SCIM_SCOPES, generate_token, hash_token};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConfig {
    /// `[[workspace]]` tables.
    #[serde(default, rename = "workspace")]
    pub workspaces: Vec<SeedWorkspace>,
}

/// One `[[workspace]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedWorkspace {
    /// Workspace id (stable; used in URLs and in `admin-token --workspace`).
    pub id: String,
    /// Display name (defaults to the id).
    pub name: Option<String>,
    /// `free` or `enterprise` (default `free`).
    #[serde(default = "default_plan")]
    pub plan: String,
    /// `[[workspace.member]]` tables: local accounts.
    #[serde(default, rename = "member")]
    pub members: Vec<SeedMember>,
    /// `[[workspace.directory]]` tables.
    #[serde(default, rename = "directory")]
    pub directories: Vec<SeedDirectory>,
}

/// One local account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMember {
    /// Login email.
    pub email: String,
    /// `owner`, `admin` or `member` (default `admin`).
    #[serde(default = "default_role")]
    pub role: String,
    /// The environment variable holding the password; without one the member cannot log in with a password.
    pub password_env: Option<String>,
}

/// One SCIM directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDirectory {
    /// Directory id.
    pub id: String,
    /// Display name (defaults to the id).
    pub name: Option<String>,
    /// The environment variable holding the directory's bearer token; without one a token is generated when the
    /// directory is created, and printed once.
    pub token_env: Option<String>,
    /// `remove` (default) or `deactivate`.
    #[serde(default = "default_deprovision")]
    pub deprovision: String,
}

fn default_plan() -> String {
    "free".into()
}
fn default_role() -> String {
    "admin".into()
}
fn default_deprovision() -> String {
    "remove".into()
}

impl SeedConfig {
    /// Parses and checks a TOML configuration.
    pub fn from_toml(text: &str) -> AdminResult<Self> {
        let c: SeedConfig = toml::from_str(text).map_err(|e| AdminError::BadRequest(format!("invalid config: {e}")))?;
        for w in &c.workspaces {
            let bad = |m: String| Err(AdminError::BadRequest(format!("workspace {:?}: {m}", w.id)));
            if w.id.trim().is_empty() {
                return bad("id must not be empty".into());
            }
            if !PLANS.contains(&w.plan.as_str()) {
                return bad(format!("plan {:?} is not one of {}", w.plan, PLANS.join(", ")));
            }
            for m in &w.members {
                if Role::parse(&m.role).is_none() {
                    return bad(format!("member {}: role {:?} is not one of owner, admin, member", m.email, m.role));
                }
                if !m.email.contains('@') {
                    return bad(format!("member email {:?} is not an email address", m.email));
                }
            }
            for d in &w.directories {
                if !DEPROVISION_MODES.contains(&d.deprovision.as_str()) {
                    return bad(format!("directory {}: deprovision must be remove or deactivate", d.id));
                }
                if d.id.trim().is_empty() {
                    return bad("a directory id must not be empty".into());
                }
            }
        }
        Ok(c)
    }
}

/// A token generated while seeding (a directory without `token_env`, created now): shown once.
#[derive(Debug, Clone)]
pub struct SeededToken {
    /// Workspace id.
    pub workspace_id: String,
    /// Directory id.
    pub directory_id: String,
    /// The bearer token.
    pub token: String,
}

impl AdminService {
    /// Applies a configuration; `env` reads environment variables (injected for tests). Everything is one batch:
    /// if a variable is missing, nothing is written.
    pub async fn seed(&self, c: &SeedConfig, env: impl Fn(&str) -> Option<String>) -> AdminResult<Vec<SeededToken>> {
        // Hash passwords and read tokens before taking the write lock: argon2 is slow on purpose.
        let mut passwords = Vec::new();
        for w in &c.workspaces {
            for m in &w.members {
                let hash = match &m.password_env {
                    Some(var) => {
                        let pw = env(var).filter(|p| !p.is_empty()).ok_or_else(|| {
                            AdminError::BadRequest(format!(
                                "environment variable {var} (password of {}) is not set",
                                m.email
                            ))
                        })?;
                        Some(auth::hash_password(pw).await?)
                    }
                    None => None,
                };
                passwords.push(hash);
            }
        }
        let mut tokens = Vec::new();
        for w in &c.workspaces {
            for d in &w.directories {
                tokens.push(match &d.token_env {
                    Some(var) => Some(env(var).filter(|t| !t.is_empty()).ok_or_else(|| {
                        AdminError::BadRequest(format!(
                            "environment variable {var} (token of directory {}) is not set",
                            d.id
                        ))
                    })?),
                    None => None,
                });
            }
        }
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                let mut batch = Vec::new();
                let mut shown = Vec::new();
                let mut pw = passwords.into_iter();
                let mut tk = tokens.into_iter();
                for w in &c.workspaces {
                    let ws = WorkspaceRecord {
                        id: w.id.clone(),
                        name: w.name.clone().unwrap_or_else(|| w.id.clone()),
                        plan: w.plan.clone(),
                        created: t.workspaces.get(&w.id).map(|x| x.created.clone()).unwrap_or_else(|| now.clone()),
                    };
                    if t.workspaces.get(&w.id) != Some(&ws) {
                        batch.push(Write::PutWorkspace(ws));
                    }
                    for m in &w.members {
                        let hash = pw.next().flatten();
                        let existing = t.members.values().find(|x| {
                            x.workspace_id == w.id
                                && x.scim_directory_id.is_none()
                                && x.email.eq_ignore_ascii_case(&m.email)
                        });
                        let rec = MemberRecord {
                            id: existing.map(|x| x.id.clone()).unwrap_or_else(|| new_id("mem")),
                            workspace_id: w.id.clone(),
                            email: m.email.clone(),
                            role: m.role.clone(),
                            active: true,
                            scim_directory_id: None,
                            scim_user_id: None,
                            created: existing.map(|x| x.created.clone()).unwrap_or_else(|| now.clone()),
                            password_hash: hash,
                        };
                        batch.push(Write::PutMember(rec));
                    }
                    for d in &w.directories {
                        let token = tk.next().flatten();
                        let existing = t.directories.get(&d.id);
                        if let Some(x) = existing
                            && x.workspace_id != w.id
                        {
                            return Err(AdminError::Conflict(format!(
                                "directory {:?} belongs to workspace {:?}, not {:?}",
                                d.id, x.workspace_id, w.id
                            )));
                        }
                        let rec = DirectoryRecord {
                            id: d.id.clone(),
                            workspace_id: w.id.clone(),
                            name: d.name.clone().unwrap_or_else(|| d.id.clone()),
                            created: existing.map(|x| x.created.clone()).unwrap_or_else(|| now.clone()),
                            deprovision: d.deprovision.clone(),
                        };
                        if existing != Some(&rec) {
                            batch.push(Write::PutDirectory(rec));
                        }
                        let token = match (token, existing) {
                            (Some(tok), _) => Some(tok),
                            (None, None) => {
                                let tok = generate_token();
                                shown.push(SeededToken {
                                    workspace_id: w.id.clone(),
                                    directory_id: d.id.clone(),
                                    token: tok.clone(),
                                });
                                Some(tok)
                            }
                            (None, Some(_)) => None,
                        };
                        if let Some(tok) = token {
                            // One configured token per directory (a fixed record id), replaced at every start, so
                            // changing the variable retires the old token.
                            batch.push(Write::PutToken(TokenRecord {
                                id: format!("{}-config", d.id),
                                directory_id: d.id.clone(),
                                name: "config token".into(),
                                hash: hash_token(&tok),
                                created: now.clone(),
                                expires_at: None,
                                revoked_at: None,
                                scopes: DEFAULT_SCIM_SCOPES.map(String::from).to_vec(),
                            }));
                        }
                    }
                }
                Ok((batch, shown))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() -> AdminResult<()> {
        let c = SeedConfig::from_toml(include_str!("../../../examples/idconform.toml"))?;
        assert!(c.workspaces.iter().any(|w| w.plan == "enterprise" && !w.directories.is_empty()));
        assert!(c.workspaces.iter().any(|w| w.plan == "free"));
        Ok(())
    }

    #[test]
    fn bad_configs_are_refused() {
        for text in [
            "[[workspace]]\nid = \"a\"\nplan = \"gold\"",
            "[[workspace]]\nid = \"a\"\n[[workspace.member]]\nemail = \"x@y\"\nrole = \"boss\"",
            "[[workspace]]\nid = \"a\"\nunknown = 1",
            "[[workspace]]\nid = \"a\"\n[[workspace.directory]]\nid = \"d\"\ndeprovision = \"burn\"",
        ] {
            assert!(SeedConfig::from_toml(text).is_err(), "{text}");
        }
    }
}
