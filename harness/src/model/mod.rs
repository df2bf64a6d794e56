//! A pure model of SCIM 2.0 resource semantics (RFC 7643, RFC 7644): Users and Groups, create, replace, patch,
//! delete, filter, sort and paginate — small, but exact where it is compared. No HTTP, no I/O: the fuzzer
//! ([`crate::fuzz`]) drives a target and this model with the same operations and compares what the target answers
//! and keeps with what the model predicts.
//!
//! Resources are named by *slot*: the position of the create that made them, so an operation sequence can refer to
//! "the second user created" before any server has assigned an id. Only the attributes below are modelled; the
//! fuzzer compares nothing else.
//!
//! Strings are kept as written. `userName` and `displayName` are `caseExact: false` (RFC 7643 §4.1.1, §8.7.1), so
//! uniqueness, filters and sorting on them ignore case, while the stored value keeps the client's case.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// One value of the multi-valued `emails` (RFC 7643 §4.1.2): its `type` and `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// `work`, `home` or `other` (the canonical values of RFC 7643 §4.1.2).
    pub kind: String,
    /// The address.
    pub value: String,
}

/// The modelled attributes of a User.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `userName`, as written (unique ignoring case).
    pub user_name: String,
    /// `displayName`, absent when unassigned.
    pub display_name: Option<String>,
    /// `name.givenName`, absent when unassigned.
    pub given_name: Option<String>,
    /// `active`; RFC 7643 §4.1.1 gives no default, so creates always send it.
    pub active: bool,
    /// `emails`, in the order the server should keep them.
    pub emails: Vec<Email>,
}

/// The modelled attributes of a Group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `displayName`.
    pub display_name: String,
    /// `members`, as user slots (a set: RFC 7644 §3.5.2.1 "If the target location already contains the value
    /// specified, no changes SHOULD be made").
    pub members: BTreeSet<usize>,
}

/// A change to a user inside one PATCH request (each maps to one or more PATCH operations on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    /// `replace` of `displayName`, or `remove` when `None`.
    DisplayName(Option<String>),
    /// `replace` of `active`.
    Active(bool),
    /// `replace` of `name.givenName`.
    GivenName(String),
    /// `replace` with path `emails` and an array value.
    ReplaceEmails(Vec<Email>),
    /// `add` with path `emails`.
    AddEmails(Vec<Email>),
    /// `remove` with path `emails[type eq "…"]`.
    RemoveEmailsOfType(String),
    /// `replace` with path `emails[type eq "…"].value`.
    SetEmailOfType(String, String),
    /// `replace` of `userName` (relative to the run prefix, like every userName in the model).
    UserName(String),
    /// `remove` of `userName`, which is required: RFC 7644 §3.5.2.2 makes it a 400 `mutability`.
    RemoveUserName,
}

/// A change to a group inside one PATCH request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    /// `add` to `members`.
    AddMembers(BTreeSet<usize>),
    /// `remove` of these members.
    RemoveMembers(BTreeSet<usize>),
    /// `replace` of `members` with exactly these.
    ReplaceMembers(BTreeSet<usize>),
    /// `replace` of `displayName`.
    Rename(String),
}

/// A filtered attribute of Users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    /// `userName` (caseExact false).
    UserName,
    /// `displayName` (caseExact false).
    DisplayName,
    /// `emails.type`, a sub-attribute of a multi-valued attribute (caseExact false, RFC 7643 §8.7.1).
    EmailType,
}

impl Attr {
    /// The attribute's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Attr::UserName => "userName",
            Attr::DisplayName => "displayName",
            Attr::EmailType => "emails.type",
        }
    }

    /// The value a sort orders by; the multi-valued `emails.type` is not sorted on here.
    fn of(self, u: &User) -> Option<&str> {
        match self {
            Attr::UserName => Some(&u.user_name),
            Attr::DisplayName => u.display_name.as_deref(),
            Attr::EmailType => None,
        }
    }

    /// Every value of the attribute: none when unassigned, one when single-valued.
    fn values(self, u: &User) -> Vec<&str> {
        match self {
            Attr::EmailType => u.emails.iter().map(|e| e.kind.as_str()).collect(),
            single => single.of(u).into_iter().collect(),
        }
    }
}

/// A comparison operator of RFC 7644 §3.4.2.2 (Table 3), on strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `co`.
    Co,
    /// `sw`.
    Sw,
    /// `ew`.
    Ew,
    /// `gt`.
    Gt,
    /// `lt`.
    Lt,
    /// `pr` (the value is ignored).
    Pr,
}

impl CompareOp {
    /// The operator's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Lt => "lt",
            CompareOp::Pr => "pr",
        }
    }
}

/// One attribute comparison, optionally negated with `not ( … )`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The attribute compared.
    pub attr: Attr,
    /// The operator.
    pub op: CompareOp,
    /// The literal (unused for `pr`).
    pub value: String,
    /// Wrapped in `not ( … )`.
    pub negated: bool,
}

impl Filter {
    /// The filter as RFC 7644 §3.4.2.2 writes it.
    pub fn render(&self) -> String {
        let inner = match self.op {
            CompareOp::Pr => format!("{} pr", self.attr.name()),
            op => format!("{} {} \"{}\"", self.attr.name(), op.name(), self.value),
        };
        if self.negated { format!("not ({inner})") } else { inner }
    }

    /// Whether a user matches.
    pub fn matches(&self, u: &User) -> bool {
        let values = self.attr.values(u);
        // caseExact false: "the comparison ... SHALL be performed in a case-insensitive manner" for string
        // attributes that are not case exact (RFC 7644 §3.4.2.2, with RFC 7643 §2.3.1).
        let v = fold(&self.value);
        let cmp = |s: &str, op: CompareOp| {
            let s = fold(s);
            match op {
                CompareOp::Eq => s == v,
                CompareOp::Co => s.contains(&v),
                CompareOp::Sw => s.starts_with(&v),
                CompareOp::Ew => s.ends_with(&v),
                // "If the attribute value is a string, lexicographical order is used" (gt/lt, §3.4.2.2).
                CompareOp::Gt => s > v,
                CompareOp::Lt => s < v,
                CompareOp::Ne | CompareOp::Pr => false,
            }
        };
        let hit = match self.op {
            CompareOp::Pr => values.iter().any(|s| !s.is_empty()),
            // `ne` is the negation of `eq`: an unassigned attribute is "not equal" to any literal, and a multi-valued
            // one is when none of its values is (so `x ne v` and `not (x eq v)` agree).
            CompareOp::Ne => !values.iter().any(|s| cmp(s, CompareOp::Eq)),
            // RFC 7644 §3.4.2.2: a multi-valued attribute matches when any of its values does; an unassigned
            // attribute has no value to compare and never matches.
            op => values.iter().any(|s| cmp(s, op)),
        };
        hit != self.negated
    }
}

/// Case folding for caseExact-false strings. The fuzzer's strings are ASCII, where lowercasing is unambiguous.
fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// A list query: filter, sort and page (RFC 7644 §3.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `filter`, if any (the fuzzer also scopes every query to its run).
    pub filter: Option<Filter>,
    /// `sortBy` and whether `sortOrder=descending`.
    pub sort: Option<(Attr, bool)>,
    /// `startIndex` and `count`.
    pub page: Option<(usize, usize)>,
}

/// What a list query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// `totalResults`: every match, not only this page (RFC 7644 §3.4.2).
    pub total: usize,
    /// The slots of this page, in the order the model determines.
    pub page: Vec<usize>,
    /// Whether `page`'s order (and, when paged, its membership) is determined by the RFC: only a sort on a unique
    /// key fixes them; otherwise only the count is.
    pub ordered: bool,
    /// The `sortBy` values in order when sorted on an attribute that may tie (ties make ids unordered, the values
    /// are not), present values only.
    pub sort_keys: Option<Vec<String>>,
}

/// The predicted answer to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Success.
    Ok,
    /// 404: the resource does not exist (RFC 7644 §3.6: a deleted resource is 404 for every operation).
    NotFound,
    /// 409 `uniqueness` (RFC 7644 §3.3, §3.12).
    Conflict,
    /// 400: the request is refused and nothing changes (RFC 7644 §3.5.2: a PATCH is atomic).
    BadRequest,
}

/// The model: the users and groups of one run, by slot.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Whether the target accepts the Okta and Entra quirks (the reference server's default); strict targets
    /// answer them 400.
    pub lenient: bool,
    users: BTreeMap<usize, User>,
    groups: BTreeMap<usize, Group>,
    created_users: Vec<usize>,
    created_groups: Vec<usize>,
    next_user: usize,
    next_group: usize,
}

impl Model {
    /// An empty model; `lenient` as for [`Model::lenient`].
    pub fn new(lenient: bool) -> Self {
        Model { lenient, ..Model::default() }
    }

    /// The live user in a slot.
    pub fn user(&self, slot: usize) -> Option<&User> {
        self.users.get(&slot)
    }

    /// The live group in a slot.
    pub fn group(&self, slot: usize) -> Option<&Group> {
        self.groups.get(&slot)
    }

    /// Slots of every user a create succeeded for (deleted ones included), in creation order.
    pub fn created_users(&self) -> &[usize] {
        &self.created_users
    }

    /// Slots of every group a create succeeded for (deleted ones included), in creation order.
    pub fn created_groups(&self) -> &[usize] {
        &self.created_groups
    }

    /// Live groups that have `user` as a member.
    pub fn groups_of(&self, user: usize) -> Vec<usize> {
        self.groups.iter().filter(|(_, g)| g.members.contains(&user)).map(|(s, _)| *s).collect()
    }

    /// The slot the next user create takes.
    pub fn next_user_slot(&self) -> usize {
        self.next_user
    }

    /// The slot the next group create takes.
    pub fn next_group_slot(&self) -> usize {
        self.next_group
    }

    fn name_taken(&self, name: &str, except: Option<usize>) -> bool {
        self.users.iter().any(|(s, u)| Some(*s) != except && fold(&u.user_name) == fold(name))
    }

    /// `POST /Users`. RFC 7644 §3.3: "If the service provider determines that the creation of the requested
    /// resource conflicts with existing resources (e.g., a "User" resource with a duplicate "userName"), the
    /// service provider MUST return HTTP status code 409"; `userName` is unique ignoring case (caseExact false,
    /// RFC 7643 §4.1.1). Returns the answer and, on success, the slot.
    pub fn create_user(&mut self, user: User) -> (Answer, Option<usize>) {
        if self.name_taken(&user.user_name, None) {
            return (Answer::Conflict, None);
        }
        let slot = self.next_user;
        self.next_user += 1;
        self.users.insert(slot, user);
        self.created_users.push(slot);
        (Answer::Ok, Some(slot))
    }

    /// `PUT /Users/{id}` (RFC 7644 §3.5.1): the resource becomes exactly the body; attributes it omits are cleared.
    pub fn replace_user(&mut self, slot: usize, user: User) -> Answer {
        if !self.users.contains_key(&slot) {
            return Answer::NotFound;
        }
        if self.name_taken(&user.user_name, Some(slot)) {
            return Answer::Conflict;
        }
        self.users.insert(slot, user);
        Answer::Ok
    }

    /// `PATCH /Users/{id}` with these changes, in order, atomically (RFC 7644 §3.5.2). `quirk`: the request uses an
    /// IdP shape outside a strict reading of the RFC (a strict target refuses it with 400).
    pub fn patch_user(&mut self, slot: usize, changes: &[UserChange], quirk: bool) -> Answer {
        let Some(current) = self.users.get(&slot) else { return Answer::NotFound };
        if quirk && !self.lenient {
            return Answer::BadRequest;
        }
        let mut u = current.clone();
        for c in changes {
            match c {
                UserChange::DisplayName(v) => u.display_name = v.clone(),
                UserChange::Active(a) => u.active = *a,
                UserChange::GivenName(g) => u.given_name = Some(g.clone()),
                // RFC 7644 §3.5.2.3: "If the target location is a multi-valued attribute and no filter is specified,
                // the attribute and all values are replaced." An empty array leaves it unassigned (RFC 7643 §2.5).
                UserChange::ReplaceEmails(e) => u.emails = e.clone(),
                // RFC 7644 §3.5.2.1: "If the target location specifies a multi-valued attribute, a new value is added
                // to the attribute." The fuzzer never adds a value that is already there.
                UserChange::AddEmails(e) => u.emails.extend(e.iter().cloned()),
                UserChange::RemoveEmailsOfType(t) => {
                    // RFC 7644 §3.5.2.2: "the values matched by the filter are removed". With no match, Table 9 makes
                    // it noTarget; lenient targets treat removing what is gone as done (idempotent IdP retries).
                    let before = u.emails.len();
                    u.emails.retain(|e| !e.kind.eq_ignore_ascii_case(t));
                    if before == u.emails.len() && !self.lenient {
                        return Answer::BadRequest;
                    }
                }
                UserChange::UserName(n) => u.user_name = n.clone(),
                // RFC 7644 §3.5.2.2: "If an attribute is removed or becomes unassigned and is defined as a required
                // attribute or a read-only attribute, the server SHALL return ... a "scimType" error code of
                // "mutability"." The whole PATCH is then undone (§3.5.2: atomic).
                UserChange::RemoveUserName => return Answer::BadRequest,
                UserChange::SetEmailOfType(t, v) => {
                    let mut hit = false;
                    for e in u.emails.iter_mut().filter(|e| e.kind.eq_ignore_ascii_case(t)) {
                        e.value = v.clone();
                        hit = true;
                    }
                    if !hit {
                        // RFC 7644 §3.5.2.3: a valuePath filter with "no record match" is 400 noTarget. Lenient
                        // targets create the record, as Entra expects for `emails[type eq "work"].value`.
                        if !self.lenient {
                            return Answer::BadRequest;
                        }
                        u.emails.push(Email { kind: t.clone(), value: v.clone() });
                    }
                }
            }
        }
        // Uniqueness holds after a PATCH as after a POST or PUT (RFC 7644 §3.12, `uniqueness`: 409).
        if self.name_taken(&u.user_name, Some(slot)) {
            return Answer::Conflict;
        }
        self.users.insert(slot, u);
        Answer::Ok
    }

    /// `DELETE /Users/{id}`; the user also leaves every group (the reference server's documented choice, and what
    /// Okta and Entra expect).
    pub fn delete_user(&mut self, slot: usize) -> Answer {
        if self.users.remove(&slot).is_none() {
            return Answer::NotFound;
        }
        for g in self.groups.values_mut() {
            g.members.remove(&slot);
        }
        Answer::Ok
    }

    fn members_exist(&self, members: &BTreeSet<usize>) -> bool {
        members.iter().all(|m| self.users.contains_key(m))
    }

    /// `POST /Groups`. Members must be existing users (the reference server answers 400 `invalidValue` otherwise).
    pub fn create_group(&mut self, display_name: String, members: BTreeSet<usize>) -> (Answer, Option<usize>) {
        if !self.members_exist(&members) {
            return (Answer::BadRequest, None);
        }
        let slot = self.next_group;
        self.next_group += 1;
        self.groups.insert(slot, Group { display_name, members });
        self.created_groups.push(slot);
        (Answer::Ok, Some(slot))
    }

    /// `PATCH /Groups/{id}`, atomically; `quirk` as for [`Model::patch_user`].
    pub fn patch_group(&mut self, slot: usize, changes: &[GroupChange], quirk: bool) -> Answer {
        let Some(current) = self.groups.get(&slot) else { return Answer::NotFound };
        if quirk && !self.lenient {
            return Answer::BadRequest;
        }
        let mut g = current.clone();
        for c in changes {
            match c {
                GroupChange::AddMembers(m) => {
                    if !self.members_exist(m) {
                        return Answer::BadRequest;
                    }
                    g.members.extend(m.iter().copied());
                }
                GroupChange::RemoveMembers(m) => {
                    // A filter `members[value eq "…"]` that matches nothing is noTarget in strict mode (Table 9).
                    if !self.lenient && m.iter().any(|x| !g.members.contains(x)) {
                        return Answer::BadRequest;
                    }
                    g.members.retain(|x| !m.contains(x));
                }
                GroupChange::ReplaceMembers(m) => {
                    if !self.members_exist(m) {
                        return Answer::BadRequest;
                    }
                    // RFC 7644 §3.5.2.3: a multi-valued attribute without filter is replaced with all its values.
                    g.members = m.clone();
                }
                GroupChange::Rename(n) => g.display_name = n.clone(),
            }
        }
        self.groups.insert(slot, g);
        Answer::Ok
    }

    /// `DELETE /Groups/{id}`.
    pub fn delete_group(&mut self, slot: usize) -> Answer {
        if self.groups.remove(&slot).is_none() { Answer::NotFound } else { Answer::Ok }
    }

    /// `GET /Users` with a query, over the live users of this run.
    pub fn list_users(&self, q: &Query) -> Listing {
        let mut hits: Vec<(usize, &User)> = self
            .users
            .iter()
            .filter(|(_, u)| q.filter.as_ref().is_none_or(|f| f.matches(u)))
            .map(|(s, u)| (*s, u))
            .collect();
        let total = hits.len();
        let mut sort_keys = None;
        let mut ordered = false;
        if let Some((attr, descending)) = q.sort {
            // RFC 7644 §3.4.2.3: "for case-insensitive attributes, sort the result using case-insensitive Unicode
            // alphabetic sort order". Where the unassigned values go is not specified; they are left out of the
            // compared keys.
            hits.sort_by(|a, b| {
                let o = match (attr.of(a.1), attr.of(b.1)) {
                    (Some(x), Some(y)) => fold(x).cmp(&fold(y)),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                if descending { o.reverse() } else { o }
            });
            // userName is unique ignoring case, so its order is total; displayName may tie.
            ordered = attr == Attr::UserName;
            if !ordered && q.page.is_none() {
                // The values as stored: the fuzzer's displayNames differ in more than case, so values that tie
                // are equal strings and the sequence is determined.
                sort_keys = Some(hits.iter().filter_map(|(_, u)| attr.of(u).map(str::to_owned)).collect());
            }
        }
        let page: Vec<usize> = match q.page {
            // RFC 7644 §3.4.2.4: startIndex is 1-based ("A value less than 1 SHALL be interpreted as 1"), count is
            // the maximum per page.
            Some((start, count)) => hits.iter().skip(start.max(1) - 1).take(count).map(|(s, _)| *s).collect(),
            None => hits.iter().map(|(s, _)| *s).collect(),
        };
        Listing { total, page, ordered, sort_keys }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, display: Option<&str>) -> User {
        User {
            user_name: name.into(),
            display_name: display.map(Into::into),
            given_name: None,
            active: true,
            emails: Vec::new(),
        }
    }

    fn f(attr: Attr, op: CompareOp, value: &str) -> Filter {
        Filter { attr, op, value: value.into(), negated: false }
    }

    #[test]
    fn user_names_are_unique_ignoring_case() {
        let mut m = Model::new(true);
        assert_eq!(m.create_user(user("r.Jon", None)), (Answer::Ok, Some(0)));
        assert_eq!(m.create_user(user("r.JON", None)), (Answer::Conflict, None));
        assert_eq!(m.delete_user(0), Answer::Ok);
        assert_eq!(m.create_user(user("r.jon", None)).0, Answer::Ok);
        assert_eq!(m.created_users(), &[0, 1]);
    }

    #[test]
    fn string_filters_ignore_case_and_treat_unassigned_as_rfc_says() {
        let u = user("r.Jony", None);
        assert!(f(Attr::UserName, CompareOp::Sw, "R.JO").matches(&u));
        assert!(f(Attr::UserName, CompareOp::Ew, "NY").matches(&u));
        assert!(f(Attr::UserName, CompareOp::Co, "on").matches(&u));
        assert!(f(Attr::UserName, CompareOp::Gt, "r.jon").matches(&u));
        assert!(!f(Attr::UserName, CompareOp::Lt, "r.jon").matches(&u));
        assert!(f(Attr::DisplayName, CompareOp::Ne, "x").matches(&u));
        assert!(!f(Attr::DisplayName, CompareOp::Pr, "").matches(&u));
        assert!(!f(Attr::DisplayName, CompareOp::Sw, "").matches(&u));
        let mut n = f(Attr::DisplayName, CompareOp::Pr, "");
        n.negated = true;
        assert!(n.matches(&u));
        assert_eq!(n.render(), "not (displayName pr)");
    }

    #[test]
    fn a_multi_valued_attribute_matches_when_any_value_does() {
        let mut u = user("r.a", None);
        assert!(!f(Attr::EmailType, CompareOp::Pr, "").matches(&u));
        u.emails =
            vec![Email { kind: "work".into(), value: "w".into() }, Email { kind: "home".into(), value: "h".into() }];
        assert!(f(Attr::EmailType, CompareOp::Eq, "HOME").matches(&u));
        assert!(f(Attr::EmailType, CompareOp::Sw, "Wo").matches(&u));
        assert!(!f(Attr::EmailType, CompareOp::Eq, "other").matches(&u));
        assert!(!f(Attr::EmailType, CompareOp::Ne, "work").matches(&u));
        assert_eq!(f(Attr::EmailType, CompareOp::Pr, "").render(), "emails.type pr");
    }

    #[test]
    fn multi_valued_replace_replaces_and_add_appends() {
        let mut m = Model::new(true);
        let mut u = user("r.a", None);
        u.emails = vec![Email { kind: "home".into(), value: "h".into() }];
        m.create_user(u);
        let work = Email { kind: "work".into(), value: "w".into() };
        assert_eq!(m.patch_user(0, &[UserChange::ReplaceEmails(vec![work.clone()])], false), Answer::Ok);
        assert_eq!(m.user(0).map(|u| u.emails.clone()), Some(vec![work.clone()]));
        assert_eq!(m.patch_user(0, &[UserChange::AddEmails(vec![work.clone()])], false), Answer::Ok);
        assert_eq!(m.user(0).map(|u| u.emails.len()), Some(2));
        // Strict: a value filter with no match is refused, atomically.
        let mut strict = Model::new(false);
        strict.create_user(user("r.b", None));
        let changes = [UserChange::DisplayName(Some("x".into())), UserChange::RemoveEmailsOfType("work".into())];
        assert_eq!(strict.patch_user(0, &changes, false), Answer::BadRequest);
        assert_eq!(strict.user(0).and_then(|u| u.display_name.clone()), None);
    }

    #[test]
    fn renames_keep_user_names_unique_and_refused_patches_change_nothing() {
        let mut m = Model::new(true);
        m.create_user(user("jon", None));
        m.create_user(user("lou", None));
        assert_eq!(m.patch_user(1, &[UserChange::UserName("JON".into())], false), Answer::Conflict);
        assert_eq!(m.replace_user(1, user("Jon", None)), Answer::Conflict);
        assert_eq!(m.patch_user(0, &[UserChange::UserName("JON".into())], false), Answer::Ok);
        let refused = [UserChange::DisplayName(Some("x".into())), UserChange::RemoveUserName];
        assert_eq!(m.patch_user(1, &refused, false), Answer::BadRequest);
        assert_eq!(m.user(1), Some(&user("lou", None)));
    }

    #[test]
    fn sorting_paging_and_membership() {
        let mut m = Model::new(true);
        for (n, d) in [("r.kurt", Some("b")), ("r.Jon", None), ("r.lou", Some("A"))] {
            m.create_user(user(n, d));
        }
        let q = Query { filter: None, sort: Some((Attr::UserName, false)), page: Some((2, 5)) };
        let l = m.list_users(&q);
        assert_eq!((l.total, l.page.clone(), l.ordered), (3, vec![0, 2], true));
        let q = Query { filter: None, sort: Some((Attr::DisplayName, true)), page: None };
        assert_eq!(m.list_users(&q).sort_keys, Some(vec!["b".into(), "A".into()]));
        let (_, g) = m.create_group("g".into(), BTreeSet::from([0, 1]));
        let g = g.unwrap_or_default();
        assert_eq!(m.create_group("h".into(), BTreeSet::from([7])).0, Answer::BadRequest);
        m.delete_user(0);
        assert_eq!(m.group(g).map(|g| g.members.clone()), Some(BTreeSet::from([1])));
        let replace = [GroupChange::ReplaceMembers(BTreeSet::from([2]))];
        assert_eq!(m.patch_group(g, &replace, false), Answer::Ok);
        assert_eq!(m.groups_of(2), vec![g]);
    }
}
