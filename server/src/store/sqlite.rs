//! The SQLite [`Store`]: one file in WAL mode (or `:memory:`), written by one dedicated thread that commits each
//! batch in its own transaction, so a request is acknowledged only after its transaction has committed.
//!
//! `synchronous = NORMAL` in WAL mode keeps every committed transaction across a crash or kill of the process; only
//! a power loss can take the last transactions (SQLite documentation, "WAL mode" and "PRAGMA synchronous").

use std::path::Path;
use std::sync::mpsc;

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::{
    Batch, CommitFuture, DirectoryRecord, LogoRecord, MemberRecord, ResourceRecord, RevokedJtiRecord, SessionRecord,
    SigningKeyRecord, Snapshot, Store, StoreError, TokenRecord, WorkspaceRecord, Write,
};
use crate::scim::schema::ResourceKind;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS directories (
    id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL REFERENCES workspaces(id), name TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scim_tokens (
    id TEXT PRIMARY KEY, directory_id TEXT NOT NULL, name TEXT NOT NULL, hash BLOB NOT NULL UNIQUE,
    created TEXT NOT NULL, expires_at TEXT, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS members (
    id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL, active INTEGER NOT NULL,
    scim_directory_id TEXT, scim_user_id TEXT, created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS members_scim ON members(scim_directory_id, scim_user_id);
CREATE TABLE IF NOT EXISTS resources (
    directory_id TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,
    password_hash TEXT, PRIMARY KEY (directory_id, id));
CREATE INDEX IF NOT EXISTS resources_order ON resources(directory_id, seq);
CREATE TABLE IF NOT EXISTS logos (
    directory_id TEXT NOT NULL, group_id TEXT NOT NULL, content_type TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (directory_id, group_id));
CREATE TABLE IF NOT EXISTS sessions (
    hash BLOB PRIMARY KEY, member_id TEXT NOT NULL, created TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, private_der BLOB NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_apps (id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_codes (hash BLOB PRIMARY KEY, app_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS oauth_codes_app ON oauth_codes(app_id);
CREATE TABLE IF NOT EXISTS oauth_grants (id TEXT PRIMARY KEY, app_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS oauth_grants_app ON oauth_grants(app_id);
CREATE TABLE IF NOT EXISTS oauth_revoked_jtis (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS saml_connections (id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS saml_settings (workspace_id TEXT PRIMARY KEY, data TEXT NOT NULL);
"#;

/// Columns added after the first release, each added to an older database that lacks it (SQLite has no
/// `ADD COLUMN IF NOT EXISTS`). Defaults give old rows the behaviour they had before the column existed.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("directories", "deprovision", "TEXT NOT NULL DEFAULT 'remove'"),
    ("scim_tokens", "scopes", "TEXT NOT NULL DEFAULT '[\"scim:read\",\"scim:write\"]'"),
    ("members", "password_hash", "TEXT"),
];

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(SCHEMA).map_err(db_err)?;
    for (table, column, decl) in ADDED_COLUMNS {
        let mut s = conn.prepare(&format!("PRAGMA table_info({table})")).map_err(db_err)?;
        let names: Vec<String> =
            s.query_map([], |r| r.get::<_, String>(1)).and_then(Iterator::collect).map_err(db_err)?;
        if !names.iter().any(|n| n == column) {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}")).map_err(db_err)?;
        }
    }
    Ok(())
}

fn scopes_to_text(scopes: &[String]) -> String {
    serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into())
}

fn scopes_from_text(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn to_json<T: serde::Serialize>(v: &T) -> rusqlite::Result<String> {
    serde_json::to_string(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn load_json<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str) -> Result<Vec<T>, StoreError> {
    let mut s = conn.prepare(sql).map_err(db_err)?;
    let rows: Vec<String> = s.query_map([], |r| r.get::<_, String>(0)).and_then(Iterator::collect).map_err(db_err)?;
    rows.iter()
        .map(|t| serde_json::from_str(t).map_err(|e| StoreError::Database(format!("unreadable record: {e}"))))
        .collect()
}

fn hash32(bytes: &[u8]) -> [u8; 32] {
    let mut h = [0u8; 32];
    if bytes.len() == 32 {
        h.copy_from_slice(bytes);
    }
    h
}

type Job = (Batch, oneshot::Sender<Result<(), StoreError>>);

/// SQLite storage; see the module docs.
#[derive(Debug)]
pub struct SqliteStore {
    reader: parking_lot::Mutex<Connection>,
    jobs: mpsc::Sender<Job>,
}

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`; `:memory:` gives a throw-away database.
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let memory = path == ":memory:";
        // A private in-memory database must be shared between the reader and the writer connection.
        let uri = if memory {
            format!("file:idconform-{}?mode=memory&cache=shared", uuid::Uuid::new_v4())
        } else {
            path.to_owned()
        };
        let open = || -> Result<Connection, StoreError> {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
                | rusqlite::OpenFlags::SQLITE_OPEN_URI
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(Path::new(&uri), flags).map_err(db_err)?;
            if !memory {
                conn.pragma_update(None, "journal_mode", "WAL").map_err(db_err)?;
            }
            conn.pragma_update(None, "synchronous", "NORMAL").map_err(db_err)?;
            conn.pragma_update(None, "foreign_keys", "ON").map_err(db_err)?;
            conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db_err)?;
            Ok(conn)
        };
        let writer = open()?;
        migrate(&writer)?;
        let reader = open()?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("idconform-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx))
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(SqliteStore { reader: parking_lot::Mutex::new(reader), jobs: tx })
    }
}

/// Most batches one transaction may carry (group commit).
const MAX_GROUP: usize = 512;

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        // Group commit: everything already queued goes into one transaction, so concurrent writers share the cost
        // of a commit. Each request still waits for the commit that holds its batch before it is answered.
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let all: Vec<&Write> = jobs.iter().flat_map(|(b, _)| b.iter()).collect();
        match apply_writes(&mut conn, &all) {
            Ok(()) => {
                for (_, reply) in jobs {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(_) => {
                // Find the batch at fault: retry each in its own transaction.
                for (batch, reply) in jobs {
                    let refs: Vec<&Write> = batch.iter().collect();
                    let result = apply_writes(&mut conn, &refs);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "transaction failed; nothing of it was written");
                    }
                    let _ = reply.send(result);
                }
            }
        }
    }
}

fn kind_str(kind: ResourceKind) -> &'static str {
    kind.name()
}

fn apply_writes(conn: &mut Connection, batch: &[&Write]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    for w in batch {
        match *w {
            Write::PutWorkspace(r) => tx
                .prepare_cached(
                    "INSERT INTO workspaces (id, name, plan, created) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, plan = excluded.plan",
                )
                .and_then(|mut s| s.execute(params![r.id, r.name, r.plan, r.created])),
            Write::PutDirectory(r) => tx
                .prepare_cached(
                    "INSERT INTO directories (id, workspace_id, name, created, deprovision) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, deprovision = excluded.deprovision",
                )
                .and_then(|mut s| s.execute(params![r.id, r.workspace_id, r.name, r.created, r.deprovision])),
            Write::DeleteDirectory { id } => tx
                .prepare_cached("DELETE FROM scim_tokens WHERE directory_id = ?1")
                .and_then(|mut s| s.execute(params![id]))
                .and_then(|_| tx.prepare_cached("DELETE FROM resources WHERE directory_id = ?1"))
                .and_then(|mut s| s.execute(params![id]))
                .and_then(|_| tx.prepare_cached("DELETE FROM logos WHERE directory_id = ?1"))
                .and_then(|mut s| s.execute(params![id]))
                .and_then(|_| tx.prepare_cached("DELETE FROM directories WHERE id = ?1"))
                .and_then(|mut s| s.execute(params![id])),
            Write::PutSession(r) => tx
                .prepare_cached(
                    "INSERT INTO sessions (hash, member_id, created, expires_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(hash) DO UPDATE SET expires_at = excluded.expires_at",
                )
                .and_then(|mut s| s.execute(params![&r.hash[..], r.member_id, r.created, r.expires_at])),
            Write::DeleteSession { hash } => tx
                .prepare_cached("DELETE FROM sessions WHERE hash = ?1")
                .and_then(|mut s| s.execute(params![&hash[..]])),
            Write::PutSigningKey(r) => tx
                .prepare_cached(
                    "INSERT INTO signing_keys (kid, alg, private_der, created) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(kid) DO NOTHING",
                )
                .and_then(|mut s| s.execute(params![r.kid, r.alg, r.private_der, r.created])),
            Write::PutToken(r) => tx
                .prepare_cached(
                    "INSERT INTO scim_tokens (id, directory_id, name, hash, created, expires_at, revoked_at, scopes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, hash = excluded.hash,
                     expires_at = excluded.expires_at, revoked_at = excluded.revoked_at, scopes = excluded.scopes",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        r.id,
                        r.directory_id,
                        r.name,
                        &r.hash[..],
                        r.created,
                        r.expires_at,
                        r.revoked_at,
                        scopes_to_text(&r.scopes)
                    ])
                }),
            Write::PutMember(r) => tx
                .prepare_cached(
                    "INSERT INTO members (id, workspace_id, email, role, active, scim_directory_id, scim_user_id, created,
                     password_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT(id) DO UPDATE SET email = excluded.email, role = excluded.role,
                     active = excluded.active, password_hash = excluded.password_hash",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        r.id,
                        r.workspace_id,
                        r.email,
                        r.role,
                        r.active,
                        r.scim_directory_id,
                        r.scim_user_id,
                        r.created,
                        r.password_hash
                    ])
                }),
            Write::DeleteMember { id } => {
                tx.prepare_cached("DELETE FROM members WHERE id = ?1").and_then(|mut s| s.execute(params![id]))
            }
            Write::PutResource(r) => tx
                .prepare_cached(
                    "INSERT INTO resources (directory_id, id, kind, seq, data, password_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(directory_id, id) DO UPDATE SET data = excluded.data,
                     password_hash = excluded.password_hash",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        r.directory_id,
                        r.id,
                        kind_str(r.kind),
                        i64::try_from(r.seq).unwrap_or(i64::MAX),
                        r.data.to_string(),
                        r.password_hash
                    ])
                }),
            Write::DeleteResource { directory_id, id } => tx
                .prepare_cached("DELETE FROM resources WHERE directory_id = ?1 AND id = ?2")
                .and_then(|mut s| s.execute(params![directory_id, id])),
            Write::PutLogo(r) => tx
                .prepare_cached(
                    "INSERT INTO logos (directory_id, group_id, content_type, data) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(directory_id, group_id) DO UPDATE SET content_type = excluded.content_type,
                     data = excluded.data",
                )
                .and_then(|mut s| s.execute(params![r.directory_id, r.group_id, r.content_type, r.data])),
            Write::DeleteLogo { directory_id, group_id } => tx
                .prepare_cached("DELETE FROM logos WHERE directory_id = ?1 AND group_id = ?2")
                .and_then(|mut s| s.execute(params![directory_id, group_id])),
            Write::PutOAuthApp(r) => to_json(r).and_then(|data| {
                tx.prepare_cached(
                    "INSERT INTO oauth_apps (id, workspace_id, data) VALUES (?1, ?2, ?3)
                     ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                )
                .and_then(|mut s| s.execute(params![r.id, r.workspace_id, data]))
            }),
            Write::DeleteOAuthApp { id } => tx
                .prepare_cached("DELETE FROM oauth_codes WHERE app_id = ?1")
                .and_then(|mut s| s.execute(params![id]))
                .and_then(|_| tx.prepare_cached("DELETE FROM oauth_grants WHERE app_id = ?1"))
                .and_then(|mut s| s.execute(params![id]))
                .and_then(|_| tx.prepare_cached("DELETE FROM oauth_apps WHERE id = ?1"))
                .and_then(|mut s| s.execute(params![id])),
            Write::PutOAuthCode(r) => to_json(r).and_then(|data| {
                tx.prepare_cached(
                    "INSERT INTO oauth_codes (hash, app_id, data) VALUES (?1, ?2, ?3)
                     ON CONFLICT(hash) DO UPDATE SET data = excluded.data",
                )
                .and_then(|mut s| s.execute(params![&r.hash[..], r.app_id, data]))
            }),
            Write::PutOAuthGrant(r) => to_json(r).and_then(|data| {
                tx.prepare_cached(
                    "INSERT INTO oauth_grants (id, app_id, data) VALUES (?1, ?2, ?3)
                     ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                )
                .and_then(|mut s| s.execute(params![r.id, r.app_id, data]))
            }),
            Write::PutRevokedJti(r) => tx
                .prepare_cached(
                    "INSERT INTO oauth_revoked_jtis (jti, expires_at) VALUES (?1, ?2) ON CONFLICT(jti) DO NOTHING",
                )
                .and_then(|mut s| s.execute(params![r.jti, r.expires_at])),
            Write::PutSamlConnection(r) => to_json(r).and_then(|data| {
                tx.prepare_cached(
                    "INSERT INTO saml_connections (id, workspace_id, data) VALUES (?1, ?2, ?3)
                     ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                )
                .and_then(|mut s| s.execute(params![r.id, r.workspace_id, data]))
            }),
            Write::DeleteSamlConnection { id } => tx
                .prepare_cached("DELETE FROM saml_connections WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id])),
            Write::PutSamlSettings(r) => to_json(r).and_then(|data| {
                tx.prepare_cached(
                    "INSERT INTO saml_settings (workspace_id, data) VALUES (?1, ?2)
                     ON CONFLICT(workspace_id) DO UPDATE SET data = excluded.data",
                )
                .and_then(|mut s| s.execute(params![r.workspace_id, data]))
            }),
        }
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

impl Store for SqliteStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        let conn = self.reader.lock();
        let mut snap = Snapshot::default();
        let mut s =
            conn.prepare("SELECT id, name, plan, created FROM workspaces ORDER BY created, id").map_err(db_err)?;
        snap.workspaces = s
            .query_map([], |r| {
                Ok(WorkspaceRecord { id: r.get(0)?, name: r.get(1)?, plan: r.get(2)?, created: r.get(3)? })
            })
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        let mut s = conn
            .prepare("SELECT id, workspace_id, name, created, deprovision FROM directories ORDER BY created, id")
            .map_err(db_err)?;
        snap.directories = s
            .query_map([], |r| {
                Ok(DirectoryRecord {
                    id: r.get(0)?,
                    workspace_id: r.get(1)?,
                    name: r.get(2)?,
                    created: r.get(3)?,
                    deprovision: r.get(4)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        let mut s = conn
            .prepare(
                "SELECT id, directory_id, name, hash, created, expires_at, revoked_at, scopes FROM scim_tokens
                 ORDER BY created, id",
            )
            .map_err(db_err)?;
        snap.tokens = s
            .query_map([], |r| {
                let hash: Vec<u8> = r.get(3)?;
                let h = hash32(&hash);
                Ok(TokenRecord {
                    id: r.get(0)?,
                    directory_id: r.get(1)?,
                    name: r.get(2)?,
                    hash: h,
                    created: r.get(4)?,
                    expires_at: r.get(5)?,
                    revoked_at: r.get(6)?,
                    scopes: scopes_from_text(&r.get::<_, String>(7)?),
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        let mut s = conn
            .prepare(
                "SELECT id, workspace_id, email, role, active, scim_directory_id, scim_user_id, created, password_hash
                 FROM members ORDER BY created, id",
            )
            .map_err(db_err)?;
        snap.members = s
            .query_map([], |r| {
                Ok(MemberRecord {
                    id: r.get(0)?,
                    workspace_id: r.get(1)?,
                    email: r.get(2)?,
                    role: r.get(3)?,
                    active: r.get(4)?,
                    scim_directory_id: r.get(5)?,
                    scim_user_id: r.get(6)?,
                    created: r.get(7)?,
                    password_hash: r.get(8)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        let mut s = conn
            .prepare(
                "SELECT directory_id, id, kind, seq, data, password_hash FROM resources ORDER BY directory_id, seq",
            )
            .map_err(db_err)?;
        let rows = s
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(db_err)?;
        for (directory_id, id, kind, seq, data, password_hash) in rows {
            let kind = ResourceKind::from_name(&kind)
                .ok_or_else(|| StoreError::Database(format!("unknown resource kind {kind:?} for {id}")))?;
            let data = serde_json::from_str(&data).map_err(|e| StoreError::Database(format!("resource {id}: {e}")))?;
            snap.resources.push(ResourceRecord {
                directory_id,
                kind,
                id,
                seq: u64::try_from(seq).unwrap_or(0),
                data,
                password_hash,
            });
        }
        let mut s = conn.prepare("SELECT directory_id, group_id, content_type, data FROM logos").map_err(db_err)?;
        snap.logos = s
            .query_map([], |r| {
                Ok(LogoRecord {
                    directory_id: r.get(0)?,
                    group_id: r.get(1)?,
                    content_type: r.get(2)?,
                    data: r.get(3)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        let mut s = conn.prepare("SELECT hash, member_id, created, expires_at FROM sessions").map_err(db_err)?;
        snap.sessions = s
            .query_map([], |r| {
                Ok(SessionRecord {
                    hash: hash32(&r.get::<_, Vec<u8>>(0)?),
                    member_id: r.get(1)?,
                    created: r.get(2)?,
                    expires_at: r.get(3)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        let mut s = conn
            .prepare("SELECT kid, alg, private_der, created FROM signing_keys ORDER BY created, kid")
            .map_err(db_err)?;
        snap.signing_keys = s
            .query_map([], |r| {
                Ok(SigningKeyRecord { kid: r.get(0)?, alg: r.get(1)?, private_der: r.get(2)?, created: r.get(3)? })
            })
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        snap.oauth_apps = load_json(&conn, "SELECT data FROM oauth_apps ORDER BY id")?;
        snap.oauth_codes = load_json(&conn, "SELECT data FROM oauth_codes")?;
        snap.oauth_grants = load_json(&conn, "SELECT data FROM oauth_grants")?;
        let mut s = conn.prepare("SELECT jti, expires_at FROM oauth_revoked_jtis").map_err(db_err)?;
        snap.revoked_jtis = s
            .query_map([], |r| Ok(RevokedJtiRecord { jti: r.get(0)?, expires_at: r.get(1)? }))
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        snap.saml_connections = load_json(&conn, "SELECT data FROM saml_connections ORDER BY id")?;
        snap.saml_settings = load_json(&conn, "SELECT data FROM saml_settings ORDER BY workspace_id")?;
        Ok(snap)
    }

    fn commit(&self, batch: Batch) -> CommitFuture {
        let (tx, rx) = oneshot::channel();
        let sent = self.jobs.send((batch, tx));
        Box::pin(async move {
            if sent.is_err() {
                return Err(StoreError::Unavailable);
            }
            rx.await.unwrap_or(Err(StoreError::Unavailable))
        })
    }
}
