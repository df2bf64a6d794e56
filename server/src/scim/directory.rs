//! The in-memory read model of one SCIM directory: resources in creation order, the indexes that serve the look-ups
//! IdPs make on every sync (`id`, `userName eq`, `externalId eq`, group `displayName eq`), the group membership graph
//! behind users' read-only `groups`, and the query engine (filter, sort, index and cursor pagination).
//!
//! It holds no I/O: the service decides what changes, commits it to the store, then applies it here.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::error::{ScimError, ScimResult, ScimType};
use super::filter::{CompValue, CompareOp, CompiledFilter, Filter, compare_values};
use super::schema::{AttrHome, Resolved, ResourceKind};

/// One stored resource.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Creation order; the default listing order, stable across pages (RFC 7644 §3.4.2.4 leaves order to the server).
    pub seq: u64,
    /// The canonical form (see the module docs of [`crate::scim`]).
    pub value: Value,
    /// Hash of the writeOnly `password`, if set.
    pub password_hash: Option<String>,
}

impl Entry {
    /// The resource id.
    pub fn id(&self) -> &str {
        self.value.get("id").and_then(Value::as_str).unwrap_or_default()
    }

    /// The weak ETag stored in `meta.version` (RFC 7644 §3.14).
    pub fn version(&self) -> &str {
        self.value.pointer("/meta/version").and_then(Value::as_str).unwrap_or_default()
    }
}

/// Lower-cases for case-insensitive matching (RFC 7643 §2.3.1: caseExact false).
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

#[derive(Debug, Default, Clone)]
struct Table {
    by_id: HashMap<Arc<str>, Arc<Entry>>,
    /// Ids in `seq` order.
    order: Vec<(u64, Arc<str>)>,
    /// `userName` (users) or `displayName` (groups), case-folded → ids.
    name: HashMap<String, Vec<Arc<str>>>,
    /// `externalId` (caseExact, RFC 7643 §3.1) → ids.
    external: HashMap<String, Vec<Arc<str>>>,
}

fn index_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    }
}

fn push_index(map: &mut HashMap<String, Vec<Arc<str>>>, key: String, id: &Arc<str>) {
    map.entry(key).or_default().push(id.clone());
}

fn pull_index(map: &mut HashMap<String, Vec<Arc<str>>>, key: &str, id: &str) {
    if let Some(v) = map.get_mut(key) {
        v.retain(|x| &**x != id);
        if v.is_empty() {
            map.remove(key);
        }
    }
}

impl Table {
    fn keys(kind: ResourceKind, value: &Value) -> (Option<String>, Option<String>) {
        let name = value.get(index_name(kind)).and_then(Value::as_str).map(fold);
        let ext = value.get("externalId").and_then(Value::as_str).map(str::to_owned);
        (name, ext)
    }

    fn put(&mut self, kind: ResourceKind, entry: Arc<Entry>) {
        let id: Arc<str> = Arc::from(entry.id());
        if let Some(old) = self.by_id.get(&id).cloned() {
            let (n, e) = Self::keys(kind, &old.value);
            if let Some(n) = n {
                pull_index(&mut self.name, &n, &id);
            }
            if let Some(e) = e {
                pull_index(&mut self.external, &e, &id);
            }
        } else {
            // New resources take the next seq, so pushing keeps `order` sorted; loading replays in seq order too.
            let pos = self.order.partition_point(|(s, _)| *s < entry.seq);
            self.order.insert(pos, (entry.seq, id.clone()));
        }
        let (n, e) = Self::keys(kind, &entry.value);
        if let Some(n) = n {
            push_index(&mut self.name, n, &id);
        }
        if let Some(e) = e {
            push_index(&mut self.external, e, &id);
        }
        self.by_id.insert(id, entry);
    }

    fn remove(&mut self, kind: ResourceKind, id: &str) -> Option<Arc<Entry>> {
        let old = self.by_id.remove(id)?;
        let (n, e) = Self::keys(kind, &old.value);
        if let Some(n) = n {
            pull_index(&mut self.name, &n, id);
        }
        if let Some(e) = e {
            pull_index(&mut self.external, &e, id);
        }
        if let Ok(pos) = self.order.binary_search_by_key(&old.seq, |(s, _)| *s) {
            self.order.remove(pos);
        }
        Some(old)
    }
}

/// A page request (RFC 7644 §3.4.2.4 and RFC 9865).
#[derive(Debug, Clone)]
pub enum PageRequest {
    /// 1-based `startIndex` and `count` (already clamped by the caller).
    Index { start: usize, count: usize },
    /// RFC 9865: `cursor` (None = first page) and `count`.
    Cursor { cursor: Option<String>, count: usize },
}

/// Sorting (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub by: Resolved,
    pub descending: bool,
}

/// The result of a query: the page and the numbers of the ListResponse.
#[derive(Debug)]
pub struct QueryPage {
    pub total: usize,
    pub start_index: usize,
    pub items: Vec<Arc<Entry>>,
    pub next_cursor: Option<String>,
    pub previous_cursor: Option<String>,
}

/// The read model of one directory.
#[derive(Debug, Default, Clone)]
pub struct DirectoryState {
    users: Table,
    groups: Table,
    /// member id → ids of the groups that list it directly.
    parents: HashMap<Arc<str>, BTreeSet<Arc<str>>>,
    /// group id → (content type, image bytes).
    logos: HashMap<String, (String, bytes::Bytes)>,
    /// The highest seq handed out; seqs also serve as resource versions.
    pub last_seq: u64,
}

impl DirectoryState {
    fn table(&self, kind: ResourceKind) -> &Table {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
        }
    }

    fn table_mut(&mut self, kind: ResourceKind) -> &mut Table {
        match kind {
            ResourceKind::User => &mut self.users,
            ResourceKind::Group => &mut self.groups,
        }
    }

    /// Hands out the next sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    /// The resource with this id.
    pub fn get(&self, kind: ResourceKind, id: &str) -> Option<&Arc<Entry>> {
        self.table(kind).by_id.get(id)
    }

    /// Which kind of resource has this id, if any.
    pub fn kind_of(&self, id: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| self.table(*k).by_id.contains_key(id))
    }

    /// Number of resources of a kind.
    pub fn count(&self, kind: ResourceKind) -> usize {
        self.table(kind).by_id.len()
    }

    /// Ids of resources whose `userName` (users) or `displayName` (groups) equals `name` case-insensitively.
    pub fn ids_by_name(&self, kind: ResourceKind, name: &str) -> &[Arc<str>] {
        self.table(kind).name.get(&fold(name)).map(Vec::as_slice).unwrap_or_default()
    }

    /// Inserts or replaces a resource, keeping indexes and the membership graph current.
    pub fn put(&mut self, kind: ResourceKind, entry: Arc<Entry>) {
        self.last_seq = self.last_seq.max(entry.seq);
        if kind == ResourceKind::Group {
            let id: Arc<str> = Arc::from(entry.id());
            self.unlink_members(&id);
            for m in member_ids(&entry.value) {
                self.parents.entry(Arc::from(m)).or_default().insert(id.clone());
            }
        }
        self.table_mut(kind).put(kind, entry);
    }

    /// Removes a resource. The caller has already removed it from the groups that listed it.
    pub fn remove(&mut self, kind: ResourceKind, id: &str) -> Option<Arc<Entry>> {
        if kind == ResourceKind::Group {
            self.unlink_members(id);
            self.logos.remove(id);
        }
        self.parents.remove(id);
        self.table_mut(kind).remove(kind, id)
    }

    fn unlink_members(&mut self, group_id: &str) {
        if let Some(old) = self.groups.by_id.get(group_id).cloned() {
            for m in member_ids(&old.value) {
                if let Some(set) = self.parents.get_mut(m) {
                    set.remove(group_id);
                    if set.is_empty() {
                        self.parents.remove(m);
                    }
                }
            }
        }
    }

    /// Ids of the groups that list `member_id` directly.
    pub fn direct_parents(&self, member_id: &str) -> Vec<Arc<str>> {
        self.parents.get(member_id).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// Every group `member_id` belongs to, directly or through nested groups, with `direct` set for direct ones.
    pub fn memberships(&self, member_id: &str) -> Vec<(Arc<str>, bool)> {
        let mut out = Vec::new();
        let mut seen: HashSet<Arc<str>> = HashSet::new();
        let mut queue: VecDeque<(Arc<str>, bool)> =
            self.direct_parents(member_id).into_iter().map(|g| (g, true)).collect();
        while let Some((g, direct)) = queue.pop_front() {
            if !seen.insert(g.clone()) {
                continue;
            }
            for p in self.direct_parents(&g) {
                queue.push_back((p, false));
            }
            out.push((g, direct));
        }
        out
    }

    /// Whether making `member` a member of `group` would close a cycle of nested groups.
    pub fn would_cycle(&self, group: &str, member: &str) -> bool {
        group == member || self.memberships(group).iter().any(|(g, _)| &**g == member)
    }

    /// The group's logo.
    pub fn logo(&self, group_id: &str) -> Option<&(String, bytes::Bytes)> {
        self.logos.get(group_id)
    }

    /// Sets or clears a group's logo.
    pub fn set_logo(&mut self, group_id: &str, logo: Option<(String, bytes::Bytes)>) {
        match logo {
            Some(l) => self.logos.insert(group_id.to_owned(), l),
            None => self.logos.remove(group_id),
        };
    }

    /// A user's derived, read-only `groups` attribute (RFC 7643 §4.1.2: direct and indirect memberships), or None
    /// when the user belongs to no group.
    pub fn groups_of(&self, user_id: &str, base: &str) -> Option<Value> {
        let groups: Vec<Value> = self
            .memberships(user_id)
            .into_iter()
            .map(|(g, direct)| {
                let mut o = serde_json::Map::new();
                o.insert("value".into(), Value::from(&*g));
                o.insert("$ref".into(), Value::from(format!("{base}/Groups/{g}")));
                if let Some(d) = self.groups.by_id.get(&g).and_then(|e| e.value.get("displayName")) {
                    o.insert("display".into(), d.clone());
                }
                o.insert("type".into(), Value::from(if direct { "direct" } else { "indirect" }));
                Value::Object(o)
            })
            .collect();
        (!groups.is_empty()).then_some(Value::Array(groups))
    }

    /// The resource with its derived attributes, as filters and sorting must see it.
    pub fn view(&self, kind: ResourceKind, entry: &Entry, base: &str) -> Value {
        let mut v = entry.value.clone();
        if kind == ResourceKind::User
            && let (Some(groups), Some(o)) = (self.groups_of(entry.id(), base), v.as_object_mut())
        {
            o.insert("groups".into(), groups);
        }
        v
    }

    /// Runs a query: filter, sort, then paginate (RFC 7644 §3.4.2: "filtering, sorting, pagination" in that order).
    pub fn query(
        &self,
        kind: ResourceKind,
        filter: Option<(&Filter, &CompiledFilter)>,
        sort: Option<Sort>,
        page: &PageRequest,
    ) -> ScimResult<QueryPage> {
        let table = self.table(kind);
        let needs_view = kind == ResourceKind::User && filter.is_some_and(|(f, _)| mentions_groups(f));
        let matches = |e: &Arc<Entry>| match filter {
            None => true,
            Some((_, c)) if needs_view => c.matches(&self.view(kind, e, "")),
            Some((_, c)) => c.matches(&e.value),
        };

        // Index fast path: a filter that pins an indexed attribute to one value selects few candidates.
        let candidates: Option<Vec<Arc<Entry>>> = filter.and_then(|(f, _)| self.index_candidates(kind, f));
        let mut selected: Vec<Arc<Entry>> = match candidates {
            Some(mut c) => {
                c.retain(|e| matches(e));
                c.sort_by_key(|e| e.seq);
                c
            }
            None if filter.is_none() && sort.is_none() => {
                // Unfiltered, unsorted: page straight off the ordered index without touching every entry.
                return self.page_ordered(table, page);
            }
            None => {
                table.order.iter().filter_map(|(_, id)| table.by_id.get(id)).filter(|e| matches(e)).cloned().collect()
            }
        };
        if let Some(s) = sort {
            sort_entries(&mut selected, s, |e| self.view(kind, e, ""), kind);
        }
        paginate(selected, page, sort.is_some())
    }

    fn page_ordered(&self, table: &Table, page: &PageRequest) -> ScimResult<QueryPage> {
        let total = table.order.len();
        match page {
            PageRequest::Index { start, count } => {
                let from = start.saturating_sub(1).min(total);
                let items = table.order[from..(from + count).min(total)]
                    .iter()
                    .filter_map(|(_, id)| table.by_id.get(id).cloned())
                    .collect();
                Ok(QueryPage { total, start_index: *start, items, next_cursor: None, previous_cursor: None })
            }
            PageRequest::Cursor { cursor, count } => {
                let w = cursor_window(|i| table.order[i].0, total, cursor.as_deref(), *count, false)?;
                let items =
                    table.order[w.from..w.end].iter().filter_map(|(_, id)| table.by_id.get(id).cloned()).collect();
                Ok(QueryPage {
                    total,
                    start_index: w.from + 1,
                    items,
                    next_cursor: w.next,
                    previous_cursor: w.previous,
                })
            }
        }
    }

    fn index_candidates(&self, kind: ResourceKind, f: &Filter) -> Option<Vec<Arc<Entry>>> {
        match f {
            Filter::Compare { path, op: CompareOp::Eq, value: CompValue::Str(v) }
                if path.sub.is_none() && path_is_core(kind, path.urn.as_deref()) =>
            {
                let table = self.table(kind);
                let ids: Vec<Arc<str>> = if path.name.eq_ignore_ascii_case("id") {
                    vec![Arc::from(v.as_str())]
                } else if path.name.eq_ignore_ascii_case(index_name(kind)) {
                    table.name.get(&fold(v)).cloned().unwrap_or_default()
                } else if path.name.eq_ignore_ascii_case("externalId") {
                    table.external.get(v).cloned().unwrap_or_default()
                } else {
                    return None;
                };
                Some(ids.iter().filter_map(|id| table.by_id.get(id).cloned()).collect())
            }
            // For `a and b`, either side's candidates are a superset of the result; the full filter runs after.
            Filter::And(a, b) => self.index_candidates(kind, a).or_else(|| self.index_candidates(kind, b)),
            _ => None,
        }
    }
}

fn path_is_core(kind: ResourceKind, urn: Option<&str>) -> bool {
    urn.is_none_or(|u| u.eq_ignore_ascii_case(kind.def().schema.id))
}

fn mentions_groups(f: &Filter) -> bool {
    match f {
        Filter::Compare { path, .. } | Filter::Present(path) | Filter::ValuePath { path, .. } => {
            path.name.eq_ignore_ascii_case("groups")
        }
        Filter::And(a, b) | Filter::Or(a, b) => mentions_groups(a) || mentions_groups(b),
        Filter::Not(a) => mentions_groups(a),
    }
}

/// Ids listed in a group's `members`.
pub fn member_ids(group: &Value) -> impl Iterator<Item = &str> {
    group
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str))
}

/// The value a resource sorts by: for multi-valued attributes the primary value, else the first (RFC 7644 §3.4.2.3).
fn sort_key(v: &Value, by: &Resolved) -> Option<Value> {
    let container = match by.home {
        AttrHome::Extension(urn) => v.get(urn)?,
        _ => v,
    };
    let attr = container.get(by.attr.name)?;
    let pick = |x: &Value| -> Option<Value> {
        match by.sub {
            Some(s) => x.get(s.name).cloned(),
            None if by.attr.has_value_sub() => x.get("value").cloned(),
            None => Some(x.clone()),
        }
    };
    match attr {
        Value::Array(items) => {
            let primary = items.iter().find(|i| i.get("primary").and_then(Value::as_bool) == Some(true));
            primary.or(items.first()).and_then(pick)
        }
        x => pick(x),
    }
    .filter(|x| !x.is_null())
}

fn sort_entries(items: &mut [Arc<Entry>], sort: Sort, view: impl Fn(&Arc<Entry>) -> Value, kind: ResourceKind) {
    let leaf = match (sort.by.sub, sort.by.attr.has_value_sub()) {
        (Some(s), _) => s,
        (None, true) => sort.by.attr.sub_attr("value").unwrap_or(sort.by.attr),
        (None, false) => sort.by.attr,
    };
    let needs_view = kind == ResourceKind::User && sort.by.attr.name == "groups";
    let mut keyed: Vec<(Option<Value>, Arc<Entry>)> = items
        .iter()
        .map(|e| {
            let k = if needs_view { sort_key(&view(e), &sort.by) } else { sort_key(&e.value, &sort.by) };
            (k, e.clone())
        })
        .collect();
    // "if there is no data for the specified sortBy value, they are sorted via the sortOrder parameter, i.e.,
    // they are ordered last if ascending and first if descending" (RFC 7644 §3.4.2.3). Ties keep creation order.
    keyed.sort_by(|(a, ea), (b, eb)| {
        let ord = match (a, b) {
            (Some(a), Some(b)) => compare_values(leaf, a, b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        let ord = if sort.descending { ord.reverse() } else { ord };
        ord.then(ea.seq.cmp(&eb.seq))
    });
    for (slot, (_, e)) in items.iter_mut().zip(keyed) {
        *slot = e;
    }
}

fn paginate(selected: Vec<Arc<Entry>>, page: &PageRequest, sorted: bool) -> ScimResult<QueryPage> {
    let total = selected.len();
    match page {
        PageRequest::Index { start, count } => {
            let from = start.saturating_sub(1).min(total);
            let items = selected.into_iter().skip(from).take(*count).collect();
            Ok(QueryPage { total, start_index: *start, items, next_cursor: None, previous_cursor: None })
        }
        PageRequest::Cursor { cursor, count } => {
            let w = cursor_window(|i| selected[i].seq, total, cursor.as_deref(), *count, sorted)?;
            let items = selected[w.from..w.end].to_vec();
            Ok(QueryPage { total, start_index: w.from + 1, items, next_cursor: w.next, previous_cursor: w.previous })
        }
    }
}

/// The positions a cursor page covers in a result of `total` entries, and the cursors around it (RFC 9865 §3).
struct CursorWindow {
    from: usize,
    end: usize,
    next: Option<String>,
    previous: Option<String>,
}

/// Reads a cursor and computes its page. Unsorted results (in creation order) use the last seq seen (`s<seq>`),
/// which stays right while resources are added or removed between pages, so a client never skips or repeats one;
/// sorted results use a position (`o<offset>`). `seq_at(i)` is the seq of the i-th entry of the result. An empty
/// cursor is the first page; anything this server would not have issued for the query is `invalidCursor`.
fn cursor_window(
    seq_at: impl Fn(usize) -> u64,
    total: usize,
    cursor: Option<&str>,
    count: usize,
    sorted: bool,
) -> ScimResult<CursorWindow> {
    let from = match cursor {
        None | Some("") => 0,
        Some(c) => match (sorted, c.strip_prefix('s'), c.strip_prefix('o')) {
            (false, Some(s), _) => {
                let seq = s.parse::<u64>().map_err(|_| invalid_cursor(c))?;
                // The first position after the last seen seq (seqs increase along the result).
                let (mut lo, mut hi) = (0, total);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if seq_at(mid) <= seq { lo = mid + 1 } else { hi = mid }
                }
                lo
            }
            (true, _, Some(o)) => o.parse::<usize>().map_err(|_| invalid_cursor(c))?.min(total),
            _ => return Err(invalid_cursor(c)),
        },
    };
    let end = (from + count).min(total);
    let at = |pos: usize| match (pos, sorted) {
        (0, _) => String::new(),
        (_, true) => format!("o{pos}"),
        (_, false) => format!("s{}", seq_at(pos - 1)),
    };
    Ok(CursorWindow {
        from,
        end,
        next: (end < total).then(|| at(end)),
        previous: (from > 0).then(|| at(from.saturating_sub(count))),
    })
}

fn invalid_cursor(c: &str) -> ScimError {
    ScimError::bad(ScimType::InvalidCursor, format!("cursor {c:?} is not one this server issued (RFC 9865 §3.2)"))
}
