//! The SCIM service: authentication of directory tokens, and every operation of RFC 7644 §3 on one directory.
//!
//! Writes in a directory are serialised by that directory's write lock: the service reads the current state,
//! decides the change, commits it to the store as one transaction, and only then applies it to the read model and
//! answers. That makes If-Match checks atomic (RFC 7644 §3.14: of concurrent PATCHes with the same version exactly one
//! wins) and means nothing is acknowledged before it is durable.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::{Map, Value, json};

use super::Leniency;
use super::directory::{DirectoryState, Entry, PageRequest, QueryPage, Sort};
use super::error::{ScimError, ScimResult};
use super::filter::{CompiledFilter, parse_filter};
use super::patch;
use super::project::Projection;
use super::resource;
use super::schema::{ENTERPRISE_USER_URN, LIST_RESPONSE_URN, ResourceKind};
use crate::clock::{Clock, format_datetime};
use crate::store::{
    Batch, CommitFuture, DirectoryRecord, LogoRecord, MemberRecord, ResourceRecord, Store, StoreError, TokenRecord,
    WorkspaceRecord, Write,
};
use crate::tenancy::{Tenancy, generate_token, hash_token};

/// Limits the server advertises in ServiceProviderConfig and enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Page size when the client gives no `count` (RFC 9865 `defaultPageSize`).
    pub default_page_size: usize,
    /// Largest page returned (RFC 7644 §3.4.2.4 lets the server return fewer; RFC 9865 `maxPageSize`).
    pub max_page_size: usize,
    /// `bulk.maxOperations` (RFC 7643 §5).
    pub bulk_max_operations: usize,
    /// `bulk.maxPayloadSize` in bytes (RFC 7643 §5).
    pub bulk_max_payload: usize,
    /// Largest request body other than Bulk and logos.
    pub max_body: usize,
    /// Largest group logo image.
    pub logo_max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_page_size: 100,
            max_page_size: 1000,
            bulk_max_operations: 1000,
            bulk_max_payload: 1_048_576,
            max_body: 1_048_576,
            logo_max_bytes: 256 * 1024,
        }
    }
}

/// One directory: its record, read model and write lock.
#[derive(Debug)]
pub struct Dir {
    pub record: DirectoryRecord,
    state: RwLock<DirectoryState>,
    write: tokio::sync::Mutex<()>,
    /// Set (under the write lock) when the directory is deleted, so a request that authenticated just before the
    /// deletion and then waited for the lock writes nothing.
    deleted: std::sync::atomic::AtomicBool,
}

impl Dir {
    fn new(record: DirectoryRecord) -> Self {
        Dir {
            record,
            state: RwLock::new(DirectoryState::default()),
            write: tokio::sync::Mutex::new(()),
            deleted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Takes the directory's write lock; 401 if the directory was deleted meanwhile (its tokens are gone).
    async fn lock_for_write(&self) -> ScimResult<tokio::sync::MutexGuard<'_, ()>> {
        let guard = self.write.lock().await;
        if self.deleted.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ScimError::Unauthorized("the directory of this token no longer exists".into()));
        }
        Ok(guard)
    }
}

/// A rendered resource and its version, for the body, `ETag` and `Location` of a response.
#[derive(Debug)]
pub struct Rendered {
    pub body: Value,
    pub version: String,
    pub location: String,
}

/// List and search parameters (RFC 7644 §3.4.2, §3.4.3; RFC 9865).
#[derive(Debug, Default, Clone)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

/// A ListResponse (RFC 7644 §3.4.2) whose resources are already serialised.
#[derive(Debug)]
pub struct ListBody {
    fields: Map<String, Value>,
    resources: Vec<String>,
}

impl ListBody {
    /// The ListResponse as JSON text, `Resources` last.
    pub fn to_json(&self) -> String {
        let head = Value::Object(self.fields.clone()).to_string();
        let mut out =
            String::with_capacity(head.len() + 16 + self.resources.iter().map(|r| r.len() + 1).sum::<usize>());
        out.push_str(head.strip_suffix('}').unwrap_or(&head));
        out.push_str(if self.fields.is_empty() { "\"Resources\":[" } else { ",\"Resources\":[" });
        for (i, r) in self.resources.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r);
        }
        out.push_str("]}");
        out
    }
}

/// The SCIM service of the whole server (all workspaces and directories).
#[derive(Debug)]
pub struct ScimService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    pub leniency: Leniency,
    pub limits: Limits,
    tenancy: RwLock<Tenancy>,
    dirs: RwLock<HashMap<String, Arc<Dir>>>,
    poisoned: std::sync::atomic::AtomicBool,
    /// Serialises admin writes, so their checks (uniqueness, last owner) and their commit are atomic.
    admin_lock: tokio::sync::Mutex<()>,
}

fn store_err(e: StoreError) -> ScimError {
    ScimError::Internal(format!("the change was not saved: {e}"))
}

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::NotFound(format!("{} {id:?} not found", kind.name()))
}

/// Compares an If-Match / If-None-Match header with a version (RFC 7232 §3.1 and §3.2; weak comparison, as SCIM ETags
/// are weak, RFC 7644 §3.14). `*` matches any current version.
pub fn etag_matches(header: &str, version: &str) -> bool {
    let want = opaque_tag(version);
    header.split(',').any(|t| t.trim() == "*" || opaque_tag(t) == want)
}

/// The opaque part of an entity tag: `W/"12"` → `12` (RFC 7232 §2.3).
fn opaque_tag(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/").trim_matches('"')
}

impl ScimService {
    /// Loads everything from the store and builds the read models.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        leniency: Leniency,
        limits: Limits,
    ) -> Result<Self, StoreError> {
        let snap = store.load()?;
        let tenancy = Tenancy::from_snapshot(&snap);
        let mut dirs: HashMap<String, Arc<Dir>> =
            snap.directories.iter().map(|d| (d.id.clone(), Arc::new(Dir::new(d.clone())))).collect();
        for r in snap.resources {
            let Some(dir) = dirs.get_mut(&r.directory_id) else { continue };
            let entry = Entry { seq: r.seq, value: r.data, password_hash: r.password_hash };
            let mut st = dir.state.write();
            let v = version_number(entry.version());
            st.put(r.kind, Arc::new(entry));
            st.last_seq = st.last_seq.max(v);
        }
        for l in snap.logos {
            if let Some(dir) = dirs.get(&l.directory_id) {
                dir.state.write().set_logo(&l.group_id, Some((l.content_type, bytes::Bytes::from(l.data))));
            }
        }
        Ok(ScimService {
            store,
            clock,
            leniency,
            limits,
            tenancy: RwLock::new(tenancy),
            dirs: RwLock::new(dirs),
            poisoned: std::sync::atomic::AtomicBool::new(false),
            admin_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn now(&self) -> String {
        format_datetime(self.clock.now())
    }

    /// The directory a bearer token belongs to; 401 otherwise (RFC 7644 §2, RFC 6750 §3.1).
    pub fn authenticate(&self, token: &str) -> ScimResult<Arc<Dir>> {
        self.authenticate_for(token, "scim:read")
    }

    /// The directory a bearer token belongs to, if the token has `scope`: 401 for an unknown, revoked or expired
    /// token, 403 for a token without the scope (RFC 6750 §3.1 `insufficient_scope`).
    pub fn authenticate_for(&self, token: &str, scope: &str) -> ScimResult<Arc<Dir>> {
        self.check_health()?;
        let dir_id = {
            let t = self.tenancy.read();
            let (d, rec) = t.authenticate_token(token, || self.now()).ok_or_else(|| {
                ScimError::Unauthorized("the bearer token is not valid for any SCIM directory".into())
            })?;
            if !rec.scopes.iter().any(|s| s == scope) {
                return Err(ScimError::Forbidden(format!("this token does not have the {scope} scope")));
            }
            d.id.clone()
        };
        self.dirs
            .read()
            .get(&dir_id)
            .cloned()
            .ok_or_else(|| ScimError::Unauthorized("the directory of this token no longer exists".into()))
    }

    /// Creates the demo workspace `acme` with one SCIM directory, unless it exists; sets its one demo token to
    /// `token` (or a fresh random one), replacing the previous run's, and returns (directory id, token).
    pub async fn ensure_demo(&self, token: Option<String>) -> Result<(String, String), StoreError> {
        let token = token.unwrap_or_else(generate_token);
        // One demo token (a fixed record id), replaced at every start: tokens of earlier runs stop working instead of
        // piling up.
        self.install_directory("acme", "Acme", "acme-scim", "Acme SCIM directory", "acme-demo", "demo", &token).await?;
        Ok(("acme-scim".to_owned(), token))
    }

    /// Creates a SCIM directory (and its workspace, on the enterprise plan, if new) with one bearer token; returns
    /// the directory id and the token, which is shown only here.
    pub async fn create_directory(&self, workspace_id: &str, name: &str) -> Result<(String, String), StoreError> {
        let dir_id = format!("dir_{}", uuid::Uuid::new_v4().simple());
        let token_id = format!("tok_{}", uuid::Uuid::new_v4().simple());
        let token = generate_token();
        self.install_directory(workspace_id, workspace_id, &dir_id, name, &token_id, "default", &token).await?;
        Ok((dir_id, token))
    }

    /// Writes a workspace and a directory (each only if new) and a token record (added, or its secret replaced),
    /// then makes them live.
    #[allow(clippy::too_many_arguments)]
    async fn install_directory(
        &self,
        workspace_id: &str,
        workspace_name: &str,
        dir_id: &str,
        dir_name: &str,
        token_id: &str,
        token_name: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let ws = WorkspaceRecord {
            id: workspace_id.to_owned(),
            name: workspace_name.to_owned(),
            plan: "enterprise".into(),
            created: now.clone(),
        };
        let dir = DirectoryRecord {
            id: dir_id.to_owned(),
            workspace_id: workspace_id.to_owned(),
            name: dir_name.to_owned(),
            created: now.clone(),
            deprovision: "remove".into(),
        };
        let rec = TokenRecord {
            id: token_id.to_owned(),
            directory_id: dir_id.to_owned(),
            name: token_name.to_owned(),
            hash: hash_token(token),
            created: now,
            expires_at: None,
            revoked_at: None,
            scopes: crate::tenancy::DEFAULT_SCIM_SCOPES.map(String::from).to_vec(),
        };
        let (ws_new, dir_new) = {
            let t = self.tenancy.read();
            (!t.workspaces.contains_key(workspace_id), !t.directories.contains_key(dir_id))
        };
        let mut batch: Batch = Vec::new();
        if ws_new {
            batch.push(Write::PutWorkspace(ws.clone()));
        }
        if dir_new {
            batch.push(Write::PutDirectory(dir.clone()));
        }
        batch.push(Write::PutToken(rec.clone()));
        self.store.commit(batch).await?;
        let mut t = self.tenancy.write();
        if ws_new {
            t.workspaces.insert(ws.id.clone(), ws);
        }
        if dir_new {
            t.directories.insert(dir.id.clone(), dir.clone());
            self.dirs.write().insert(dir.id.clone(), Arc::new(Dir::new(dir)));
        }
        t.put_token(rec);
        Ok(())
    }

    /// A directory's SCIM data, by directory id.
    pub fn directory(&self, id: &str) -> Option<Arc<Dir>> {
        self.dirs.read().get(id).cloned()
    }

    /// The tenancy records (workspaces, directories, tokens, members, OAuth records).
    pub fn tenancy(&self) -> &RwLock<Tenancy> {
        &self.tenancy
    }

    /// The one write path of the admin service: serialised with every other admin write (and, when `dir_id` is
    /// given, with that directory's SCIM writes, so a member's SCIM update and its role change never overwrite each
    /// other), `decide` reads the current records and returns a batch; the batch is committed, and only then applied
    /// to the in-memory records. Nothing is visible, or acknowledged, before it is durable.
    pub async fn admin_write<T, E: From<StoreError>>(
        &self,
        dir_id: Option<&str>,
        decide: impl FnOnce(&Tenancy) -> Result<(Batch, T), E>,
    ) -> Result<T, E> {
        let _admin = self.admin_lock.lock().await;
        let dir = dir_id.and_then(|id| self.dirs.read().get(id).cloned());
        let _dir_guard = match &dir {
            Some(d) => Some(d.write.lock().await),
            None => None,
        };
        let (batch, out) = decide(&self.tenancy.read())?;
        if batch.is_empty() {
            return Ok(out);
        }
        self.store.commit(batch.clone()).await?;
        let mut t = self.tenancy.write();
        let mut dirs = self.dirs.write();
        for w in &batch {
            match w {
                Write::PutDirectory(r) if !dirs.contains_key(&r.id) => {
                    dirs.insert(r.id.clone(), Arc::new(Dir::new(r.clone())));
                }
                Write::DeleteDirectory { id } => {
                    if let Some(d) = dirs.remove(id) {
                        d.deleted.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                _ => {}
            }
            t.apply(w);
        }
        Ok(out)
    }

    /// Members of a workspace (SCIM-provisioned ones included), for the admin views and tests.
    pub fn members(&self, workspace_id: &str) -> Vec<MemberRecord> {
        let mut v: Vec<MemberRecord> =
            self.tenancy.read().members.values().filter(|m| m.workspace_id == workspace_id).cloned().collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        v
    }

    /// What is derived at read time rather than stored — `meta.location`, a user's `groups` (RFC 7643 §4.1.2),
    /// `$ref` of group members (§4.2), `$ref` and `displayName` of a user's manager (§4.3) — and the location.
    fn derived(&self, st: &DirectoryState, kind: ResourceKind, e: &Entry, base: &str) -> (String, Map<String, Value>) {
        let location = format!("{base}{}/{}", kind.def().endpoint, e.id());
        let mut derived = Map::new();
        derived.insert("meta".into(), json!({ "location": location }));
        match kind {
            ResourceKind::User => {
                if let Some(groups) = st.groups_of(e.id(), base) {
                    derived.insert("groups".into(), groups);
                }
                if let Some(mid) = e.value.pointer(MANAGER_VALUE).and_then(Value::as_str) {
                    let mut manager = json!({ "value": mid, "$ref": format!("{base}/Users/{mid}") });
                    if let Some(name) = st.get(ResourceKind::User, mid).and_then(|m| m.value.get("displayName")) {
                        manager["displayName"] = name.clone();
                    }
                    derived.insert(ENTERPRISE_USER_URN.into(), json!({ "manager": manager }));
                }
            }
            ResourceKind::Group => {
                if let Some(Value::Array(members)) = e.value.get("members") {
                    let with_refs = members
                        .iter()
                        .map(|m| {
                            let mut m = m.clone();
                            if let (Some(v), Some(t)) = (
                                m.get("value").and_then(Value::as_str).map(str::to_owned),
                                m.get("type").and_then(Value::as_str).and_then(ResourceKind::from_name),
                            ) {
                                m["$ref"] = Value::from(format!("{base}{}/{v}", t.def().endpoint));
                            }
                            m
                        })
                        .collect();
                    derived.insert("members".into(), Value::Array(with_refs));
                }
            }
        }
        (location, derived)
    }

    /// Renders a resource: the projection of the stored form plus the derived attributes, passed through the same
    /// projection so `attributes` and `excludedAttributes` apply to them too. The stored form is never copied whole.
    fn render(&self, st: &DirectoryState, kind: ResourceKind, e: &Entry, proj: &Projection, base: &str) -> Rendered {
        let (location, derived) = self.derived(st, kind, e, base);
        let mut body = proj.apply(&e.value);
        // The default projection returns every derived attribute as it is, so it can skip the second pass.
        let extra = if proj.is_default() {
            derived
        } else if let Value::Object(m) = proj.apply(&Value::Object(derived)) {
            m
        } else {
            Map::new()
        };
        if let Value::Object(out) = &mut body {
            merge_derived(out, extra);
        }
        Rendered { body, version: e.version().to_owned(), location }
    }

    /// A resource as JSON text. Under the default projection the stored form is written out directly with the
    /// derived attributes merged in while serialising — it holds nothing `returned: never` or `request` (see the
    /// canonical form in [`crate::scim`]), so nothing needs removing — and no intermediate value is built; reads and
    /// lists are the server's hot path.
    fn render_text(&self, st: &DirectoryState, kind: ResourceKind, e: &Entry, proj: &Projection, base: &str) -> String {
        match (&e.value, proj.is_default()) {
            (Value::Object(stored), true) => {
                let (_, derived) = self.derived(st, kind, e, base);
                // Serialising maps of JSON values into a Vec cannot fail; the buffer is sized for a typical resource.
                let mut out = Vec::with_capacity(1024);
                let _ = serde_json::to_writer(&mut out, &Merged { stored, derived: &derived });
                String::from_utf8(out).unwrap_or_default()
            }
            _ => self.render(st, kind, e, proj, base).body.to_string(),
        }
    }

    /// GET of one resource as JSON text and its version (RFC 7644 §3.4.1).
    pub fn get_text(
        &self,
        dir: &Dir,
        kind: ResourceKind,
        id: &str,
        proj: &Projection,
        base: &str,
    ) -> ScimResult<(String, String)> {
        let st = dir.state.read();
        let e = st.get(kind, id).ok_or_else(|| not_found(kind, id))?;
        Ok((self.render_text(&st, kind, e, proj, base), e.version().to_owned()))
    }

    /// GET of one resource (RFC 7644 §3.4.1).
    pub fn get(&self, dir: &Dir, kind: ResourceKind, id: &str, proj: &Projection, base: &str) -> ScimResult<Rendered> {
        let st = dir.state.read();
        let e = st.get(kind, id).ok_or_else(|| not_found(kind, id))?;
        Ok(self.render(&st, kind, e, proj, base))
    }

    /// The stored version of a resource, for If-None-Match before rendering.
    pub fn version_of(&self, dir: &Dir, kind: ResourceKind, id: &str) -> Option<String> {
        dir.state.read().get(kind, id).map(|e| e.version().to_owned())
    }

    /// A list or search over one or more resource types (RFC 7644 §3.4.2, §3.4.3; RFC 9865).
    pub fn list(&self, dir: &Dir, kinds: &[ResourceKind], p: &ListParams, base: &str) -> ScimResult<ListBody> {
        let filter = match p.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(parse_filter(f).map_err(|e| ScimError::invalid_filter(format!("invalid filter: {e}")))?),
        };
        let descending = match p.sort_order.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("ascending") => false,
            Some("descending") => true,
            // "sortOrder ... Allowed values are "ascending" and "descending"" (RFC 7644 §3.4.2.3).
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder must be \"ascending\" or \"descending\", not {o:?} (RFC 7644 §3.4.2.3)"
                )));
            }
        };
        let count = match p.count {
            None => self.limits.default_page_size,
            // "A negative value SHALL be interpreted as "0"" (RFC 7644 §3.4.2.4).
            Some(c) if c < 0 => 0,
            // The server may return fewer than asked, up to its advertised maximum (RFC 7644 §3.4.2.4).
            Some(c) => usize::try_from(c).unwrap_or(usize::MAX).min(self.limits.max_page_size),
        };
        let page = match &p.cursor {
            Some(c) => {
                if p.start_index.is_some() {
                    return Err(ScimError::invalid_value(
                        "cursor and startIndex cannot be used together (RFC 9865 §3)",
                    ));
                }
                PageRequest::Cursor { cursor: Some(c.clone()).filter(|c| !c.is_empty()), count }
            }
            // "A value less than 1 SHALL be interpreted as 1" (RFC 7644 §3.4.2.4).
            None => PageRequest::Index {
                start: usize::try_from(p.start_index.unwrap_or(1).max(1)).unwrap_or(usize::MAX),
                count,
            },
        };
        let st = dir.state.read();
        let mut pages: Vec<(ResourceKind, QueryPage)> = Vec::new();
        let mut compile_errors = Vec::new();
        let single = kinds.len() == 1;
        for &kind in kinds {
            let rt = kind.def();
            let compiled = match &filter {
                None => None,
                Some(f) => match CompiledFilter::compile(f, rt) {
                    Ok(c) => Some(c),
                    Err(e) if single => return Err(e),
                    Err(e) => {
                        // Searching from the root, a filter naming attributes of one type matches nothing of another.
                        compile_errors.push(e);
                        continue;
                    }
                },
            };
            let sort = match p.sort_by.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(s) => match rt.resolve_str(s) {
                    Some(by) => Some(Sort { by, descending }),
                    None if single => {
                        return Err(ScimError::invalid_value(format!(
                            "sortBy {s:?} is not an attribute of {} (RFC 7644 §3.4.2.3)",
                            rt.name
                        )));
                    }
                    None => None,
                },
            };
            let kind_page = if single { page.clone() } else { PageRequest::Index { start: 1, count: usize::MAX } };
            let pair = filter.as_ref().zip(compiled.as_ref());
            pages.push((kind, st.query(kind, pair, sort, &kind_page)?));
        }
        if pages.is_empty() {
            return Err(compile_errors
                .into_iter()
                .next()
                .unwrap_or_else(|| ScimError::invalid_filter("no resource type")));
        }
        let render_page = |kind: ResourceKind, items: &[Arc<Entry>]| -> ScimResult<Vec<String>> {
            let proj = Projection::parse(kind.def(), p.attributes.as_deref(), p.excluded_attributes.as_deref())?;
            Ok(items.iter().map(|e| self.render_text(&st, kind, e, &proj, base)).collect())
        };
        let mut body = Map::new();
        body.insert("schemas".into(), json!([LIST_RESPONSE_URN]));
        if single {
            let (kind, qp) = &pages[0];
            let resources = render_page(*kind, &qp.items)?;
            body.insert("totalResults".into(), Value::from(qp.total));
            body.insert("itemsPerPage".into(), Value::from(resources.len()));
            if matches!(page, PageRequest::Index { .. }) {
                body.insert("startIndex".into(), Value::from(qp.start_index));
            }
            if let Some(n) = &qp.next_cursor {
                body.insert("nextCursor".into(), Value::from(n.clone()));
            }
            if let Some(pc) = &qp.previous_cursor {
                body.insert("previousCursor".into(), Value::from(pc.clone()));
            }
            Ok(ListBody { fields: body, resources })
        } else {
            // Root search (RFC 7644 §3.4.2.1, §3.4.3): every type's matches, users first, then paginated.
            let total: usize = pages.iter().map(|(_, q)| q.total).sum();
            let (start, count) = match page {
                PageRequest::Index { start, count } => (start, count),
                PageRequest::Cursor { .. } => {
                    return Err(ScimError::invalid_value(
                        "cursor pagination is supported per resource type, not for searches from the root",
                    ));
                }
            };
            let mut resources = Vec::new();
            let mut skip = start.saturating_sub(1);
            for (kind, qp) in &pages {
                let avail = qp.items.len();
                let take_from = skip.min(avail);
                skip -= take_from;
                let want = count - resources.len();
                let slice = &qp.items[take_from..(take_from + want).min(avail)];
                resources.extend(render_page(*kind, slice)?);
            }
            body.insert("totalResults".into(), Value::from(total));
            body.insert("itemsPerPage".into(), Value::from(resources.len()));
            body.insert("startIndex".into(), Value::from(start));
            Ok(ListBody { fields: body, resources })
        }
    }

    /// Checks uniqueness and group membership references of a resource about to be written, and completes member
    /// entries (`type`, `display`) from the resources they point to.
    fn check_write(&self, st: &DirectoryState, kind: ResourceKind, id: &str, v: &mut Value) -> ScimResult<()> {
        match kind {
            ResourceKind::User => {
                let name = v.get("userName").and_then(Value::as_str).unwrap_or_default();
                // userName is unique per directory, compared case-insensitively (RFC 7643 §4.1.1: "caseExact" false,
                // "uniqueness" server); a clash is 409 uniqueness (RFC 7644 §3.3).
                if st.ids_by_name(ResourceKind::User, name).iter().any(|other| &**other != id) {
                    return Err(ScimError::Conflict(format!("userName {name:?} is already in use in this directory")));
                }
            }
            ResourceKind::Group => {
                if let Some(members) = v.get_mut("members").and_then(Value::as_array_mut) {
                    for m in members.iter_mut() {
                        let mid = m.get("value").and_then(Value::as_str).unwrap_or_default().to_owned();
                        let Some(mkind) = st.kind_of(&mid) else {
                            return Err(ScimError::invalid_value(format!(
                                "member {mid:?} is not a User or Group of this directory"
                            )));
                        };
                        if mkind == ResourceKind::Group && st.would_cycle(id, &mid) {
                            return Err(ScimError::invalid_value(format!(
                                "adding group {mid:?} as a member would make the group contain itself"
                            )));
                        }
                        if let Some(o) = m.as_object_mut() {
                            o.insert("type".into(), Value::from(mkind.name()));
                            o.remove("$ref");
                            let target = st.get(mkind, &mid).map(|e| e.value.clone()).unwrap_or_default();
                            let display = target
                                .get("displayName")
                                .or_else(|| target.get("userName"))
                                .and_then(Value::as_str)
                                .map(str::to_owned);
                            if let Some(d) = display {
                                o.insert("display".into(), Value::from(d));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn hash_password(password: Option<String>) -> ScimResult<Option<String>> {
        let Some(pw) = password else { return Ok(None) };
        tokio::task::spawn_blocking(move || {
            use argon2::password_hash::{PasswordHasher, SaltString};
            use rand::RngCore;
            let mut raw = [0u8; 16];
            rand::rng().fill_bytes(&mut raw);
            let salt = SaltString::encode_b64(&raw)
                .map_err(|e| ScimError::Internal(format!("password hashing failed: {e}")))?;
            argon2::Argon2::default()
                .hash_password(pw.as_bytes(), &salt)
                .map(|h| Some(h.to_string()))
                .map_err(|e| ScimError::Internal(format!("password hashing failed: {e}")))
        })
        .await
        .map_err(|e| ScimError::Internal(format!("password hashing failed: {e}")))?
    }

    fn member_write(&self, dir: &Dir, user: &Value, created: &str) -> Option<MemberRecord> {
        let t = self.tenancy.read();
        let uid = user.get("id").and_then(Value::as_str)?;
        let email = primary_email(user);
        let active = user.get("active").and_then(Value::as_bool).unwrap_or(true);
        Some(match t.member_for_scim_user(&dir.record.id, uid) {
            Some(m) => MemberRecord { email, active, ..m.clone() },
            None => MemberRecord {
                id: format!("mem_{}", uuid::Uuid::new_v4().simple()),
                workspace_id: dir.record.workspace_id.clone(),
                email,
                role: "member".into(),
                active,
                scim_directory_id: Some(dir.record.id.clone()),
                scim_user_id: Some(uid.to_owned()),
                created: created.to_owned(),
                password_hash: None,
            },
        })
    }

    /// Applies a batch to the read model and queues it for the store, in that order, while the caller holds the
    /// directory's write lock (so batches reach the store in the order they changed the model). The caller then
    /// releases the lock and awaits [`Self::durable`] before answering: nothing is acknowledged before it is on
    /// disk, and concurrent writers share commits (see `store::sqlite`).
    fn stage(&self, dir: &Dir, batch: Batch) -> CommitFuture {
        {
            let mut st = dir.state.write();
            let mut t = self.tenancy.write();
            for w in &batch {
                match w {
                    Write::PutResource(r) => st.put(
                        r.kind,
                        Arc::new(Entry { seq: r.seq, value: r.data.clone(), password_hash: r.password_hash.clone() }),
                    ),
                    Write::DeleteResource { id, .. } => {
                        if let Some(k) = st.kind_of(id) {
                            st.remove(k, id);
                        }
                    }
                    Write::PutLogo(l) => {
                        st.set_logo(&l.group_id, Some((l.content_type.clone(), bytes::Bytes::from(l.data.clone()))))
                    }
                    Write::DeleteLogo { group_id, .. } => st.set_logo(group_id, None),
                    other => t.apply(other),
                }
            }
        }
        self.store.commit(batch)
    }

    /// Waits until a staged batch is durable. If the store failed, the read model is ahead of the disk: the service
    /// stops answering (503 until restart, which reloads from disk) rather than serve state that was never saved.
    async fn durable(&self, fut: CommitFuture) -> ScimResult<()> {
        fut.await.map_err(|e| {
            self.poisoned.store(true, std::sync::atomic::Ordering::SeqCst);
            store_err(e)
        })
    }

    fn check_health(&self) -> ScimResult<()> {
        if self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ScimError::Unavailable(
                "a write could not be saved; the server must be restarted to reload its state from storage".into(),
            ));
        }
        Ok(())
    }

    fn record(dir: &Dir, kind: ResourceKind, seq: u64, data: Value, password_hash: Option<String>) -> Write {
        let id = data.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        Write::PutResource(ResourceRecord { directory_id: dir.record.id.clone(), kind, id, seq, data, password_hash })
    }

    /// POST of a new resource (RFC 7644 §3.3).
    pub async fn create(
        &self,
        dir: &Dir,
        kind: ResourceKind,
        body: &Value,
        proj: &Projection,
        base: &str,
    ) -> ScimResult<Rendered> {
        let rt = kind.def();
        let resource::Normalized { resource: mut v, password } = resource::normalize(body, rt, self.leniency)?;
        let password_hash = Self::hash_password(password).await?;
        let _w = dir.lock_for_write().await?;
        let id = uuid::Uuid::new_v4().to_string();
        let seq = {
            let st = dir.state.read();
            self.check_write(&st, kind, &id, &mut v)?;
            st.last_seq + 1
        };
        let now = self.now();
        if let Some(o) = v.as_object_mut() {
            o.insert("id".into(), Value::from(id.clone()));
            o.insert(
                "meta".into(),
                json!({"resourceType": kind.name(), "created": now, "lastModified": now, "version": weak_etag(seq)}),
            );
        }
        let mut batch = vec![Self::record(dir, kind, seq, v.clone(), password_hash)];
        if kind == ResourceKind::User {
            batch.extend(self.member_write(dir, &v, &now).map(Write::PutMember));
        }
        let staged = self.stage(dir, batch);
        drop(_w);
        self.durable(staged).await?;
        let st = dir.state.read();
        let e = st.get(kind, &id).ok_or_else(|| not_found(kind, &id))?;
        Ok(self.render(&st, kind, e, proj, base))
    }

    fn current(&self, dir: &Dir, kind: ResourceKind, id: &str, if_match: Option<&str>) -> ScimResult<Arc<Entry>> {
        let st = dir.state.read();
        let e = st.get(kind, id).cloned().ok_or_else(|| not_found(kind, id))?;
        if let Some(h) = if_match {
            // "If the ETag does not match, the server SHALL return 412 Precondition Failed" (RFC 7644 §3.14,
            // RFC 7232 §3.1).
            if !etag_matches(h, e.version()) {
                return Err(ScimError::PreconditionFailed(format!(
                    "If-Match {h} does not match the current version {}",
                    e.version()
                )));
            }
        }
        Ok(e)
    }

    fn write_updated(
        &self,
        dir: &Dir,
        kind: ResourceKind,
        old: &Entry,
        mut v: Value,
        password_hash: Option<String>,
    ) -> ScimResult<CommitFuture> {
        let id = old.id().to_owned();
        let seq = {
            let st = dir.state.read();
            self.check_write(&st, kind, &id, &mut v)?;
            st.last_seq + 1
        };
        let now = self.now();
        if let Some(o) = v.as_object_mut() {
            o.insert("id".into(), Value::from(id.clone()));
            let mut meta = old.value.get("meta").cloned().unwrap_or_else(|| json!({}));
            meta["lastModified"] = Value::from(now.clone());
            meta["version"] = Value::from(weak_etag(seq));
            o.insert("meta".into(), meta);
        }
        let mut batch = vec![Self::record(dir, kind, old.seq, v.clone(), password_hash.or(old.password_hash.clone()))];
        if kind == ResourceKind::User {
            batch.extend(self.member_write(dir, &v, &now).map(Write::PutMember));
        }
        Ok(self.stage(dir, batch))
    }

    /// PUT: replace a resource (RFC 7644 §3.5.1).
    #[allow(clippy::too_many_arguments)]
    pub async fn replace(
        &self,
        dir: &Dir,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        proj: &Projection,
        base: &str,
    ) -> ScimResult<Rendered> {
        let rt = kind.def();
        let resource::Normalized { resource: v, password } = resource::normalize(body, rt, self.leniency)?;
        let password_hash = Self::hash_password(password).await?;
        let _w = dir.lock_for_write().await?;
        let old = self.current(dir, kind, id, if_match)?;
        let v = resource::merge_for_replace(&old.value, v, rt)?;
        let staged = self.write_updated(dir, kind, &old, v, password_hash)?;
        drop(_w);
        self.durable(staged).await?;
        self.get(dir, kind, id, proj, base)
    }

    /// PATCH (RFC 7644 §3.5.2). Atomic: the operations apply to a copy, which replaces the stored resource only if
    /// every operation succeeded and the result is valid.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        dir: &Dir,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        proj: &Projection,
        base: &str,
    ) -> ScimResult<Rendered> {
        let rt = kind.def();
        let ops = patch::parse_request(body, self.leniency)?;
        let _w = dir.lock_for_write().await?;
        let old = self.current(dir, kind, id, if_match)?;
        let mut v = old.value.clone();
        let outcome = patch::apply(&mut v, &ops, rt, self.leniency)?;
        resource::validate_after_patch(&old.value, &v, rt)?;
        if outcome.changed || outcome.password.is_some() {
            let password_hash = Self::hash_password(outcome.password).await?;
            let staged = self.write_updated(dir, kind, &old, v, password_hash)?;
            drop(_w);
            self.durable(staged).await?;
        }
        self.get(dir, kind, id, proj, base)
    }

    /// DELETE (RFC 7644 §3.6). A deleted user or group also leaves every group that listed it, and a deleted user's
    /// workspace membership ends.
    pub async fn delete(&self, dir: &Dir, kind: ResourceKind, id: &str, if_match: Option<&str>) -> ScimResult<()> {
        let _w = dir.lock_for_write().await?;
        let old = self.current(dir, kind, id, if_match)?;
        let now = self.now();
        let mut batch: Batch = Vec::new();
        {
            let st = dir.state.read();
            let mut seq = st.last_seq;
            for gid in st.direct_parents(id) {
                let Some(g) = st.get(ResourceKind::Group, &gid) else { continue };
                let mut v = g.value.clone();
                if let Some(members) = v.get_mut("members").and_then(Value::as_array_mut) {
                    members.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
                    if members.is_empty()
                        && let Some(o) = v.as_object_mut()
                    {
                        o.remove("members");
                    }
                }
                seq += 1;
                v["meta"]["lastModified"] = Value::from(now.clone());
                v["meta"]["version"] = Value::from(weak_etag(seq));
                batch.push(Self::record(dir, ResourceKind::Group, g.seq, v, None));
            }
            if kind == ResourceKind::Group && st.logo(id).is_some() {
                batch.push(Write::DeleteLogo { directory_id: dir.record.id.clone(), group_id: id.to_owned() });
            }
        }
        batch.push(Write::DeleteResource { directory_id: dir.record.id.clone(), id: old.id().to_owned() });
        if kind == ResourceKind::User
            && let Some(m) = self.tenancy.read().member_for_scim_user(&dir.record.id, id)
        {
            batch.push(Write::DeleteMember { id: m.id.clone() });
        }
        let staged = self.stage(dir, batch);
        drop(_w);
        self.durable(staged).await
    }

    /// PUT of a group's logo: PNG or JPEG only, size-limited; the group's read-only `logo` then points at it.
    pub async fn put_logo(
        &self,
        dir: &Dir,
        id: &str,
        content_type: &str,
        data: bytes::Bytes,
        base: &str,
    ) -> ScimResult<Rendered> {
        let ct = sniff_image(&data).ok_or_else(|| {
            ScimError::invalid_value("the logo must be a PNG or JPEG image (SVG is refused: it can carry script)")
        })?;
        let declared = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if declared != ct && !(ct == "image/jpeg" && declared == "image/jpg") {
            return Err(ScimError::invalid_value(format!(
                "Content-Type {declared:?} does not match the image, which is {ct}"
            )));
        }
        if data.len() > self.limits.logo_max_bytes {
            return Err(ScimError::PayloadTooLarge(format!(
                "the logo is {} bytes; at most {} are accepted",
                data.len(),
                self.limits.logo_max_bytes
            )));
        }
        let _w = dir.lock_for_write().await?;
        let old = self.current(dir, ResourceKind::Group, id, None)?;
        let mut v = old.value.clone();
        let location = format!("{base}/Groups/{id}/Logo");
        v["logo"] = Value::from(location);
        let now = self.now();
        let seq = dir.state.read().last_seq + 1;
        v["meta"]["lastModified"] = Value::from(now);
        v["meta"]["version"] = Value::from(weak_etag(seq));
        let batch = vec![
            Write::PutLogo(LogoRecord {
                directory_id: dir.record.id.clone(),
                group_id: id.to_owned(),
                content_type: ct.to_owned(),
                data: data.to_vec(),
            }),
            Self::record(dir, ResourceKind::Group, old.seq, v, None),
        ];
        let staged = self.stage(dir, batch);
        drop(_w);
        self.durable(staged).await?;
        self.get(dir, ResourceKind::Group, id, &Projection::default_for(ResourceKind::Group.def()), base)
    }

    /// A group's logo image and its content type.
    pub fn get_logo(&self, dir: &Dir, id: &str) -> ScimResult<(String, bytes::Bytes)> {
        let st = dir.state.read();
        st.get(ResourceKind::Group, id).ok_or_else(|| not_found(ResourceKind::Group, id))?;
        st.logo(id).cloned().ok_or_else(|| ScimError::NotFound(format!("group {id:?} has no logo")))
    }
}

const MANAGER_VALUE: &str = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value";

/// Serialises a stored object with derived attributes merged in, the way [`merge_derived`] would merge them:
/// objects merge key by key, anything else in `derived` replaces the stored value, derived keys the stored form
/// lacks come last.
struct Merged<'a> {
    stored: &'a Map<String, Value>,
    derived: &'a Map<String, Value>,
}

impl serde::Serialize for Merged<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.stored {
            match (v, self.derived.get(k)) {
                (Value::Object(stored), Some(Value::Object(derived))) => {
                    map.serialize_entry(k, &Merged { stored, derived })?
                }
                (_, Some(d)) => map.serialize_entry(k, d)?,
                (_, None) => map.serialize_entry(k, v)?,
            }
        }
        for (k, d) in self.derived {
            if !self.stored.contains_key(k) {
                map.serialize_entry(k, d)?;
            }
        }
        map.end()
    }
}

/// Merges projected derived attributes into a rendered resource: objects merge key by key, anything else replaces.
fn merge_derived(out: &mut Map<String, Value>, extra: Map<String, Value>) {
    for (k, v) in extra {
        if k == "schemas" || k == "id" {
            continue;
        }
        match (out.get_mut(&k), v) {
            (Some(Value::Object(into)), Value::Object(from)) => merge_derived(into, from),
            (_, v) => {
                out.insert(k, v);
            }
        }
    }
}

/// The weak ETag of a version number (RFC 7644 §3.14, RFC 7232 §2.3).
pub fn weak_etag(n: u64) -> String {
    format!("W/\"{n}\"")
}

fn version_number(etag: &str) -> u64 {
    opaque_tag(etag).parse().unwrap_or(0)
}

fn primary_email(user: &Value) -> String {
    let emails = user.get("emails").and_then(Value::as_array);
    let pick = emails
        .and_then(|es| {
            es.iter().find(|e| e.get("primary").and_then(Value::as_bool) == Some(true)).or_else(|| es.first())
        })
        .and_then(|e| e.get("value").and_then(Value::as_str));
    pick.or_else(|| user.get("userName").and_then(Value::as_str)).unwrap_or_default().to_owned()
}

/// Recognises PNG and JPEG by their magic bytes; everything else (SVG included) is refused.
fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}
