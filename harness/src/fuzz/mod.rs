//! Model-based fuzzing of a SCIM service provider: random operation sequences (proptest), sent to any target over
//! HTTP and applied to the pure [`crate::model`]; after every operation the target's answer and the state it kept
//! (read back with a GET) must be what the model predicts. A divergence is shrunk to a minimal sequence and written
//! as a scenario file (`scenarios/README.md` format) that `idconform replay all --scenarios-dir DIR` runs again.
//!
//! Each operation is first *planned*: the model turns it into scenario steps (request, accepted statuses, assertions
//! on the response and on the follow-up GET) whose ids are variables (`{{u0}}`, captured from the create) and whose
//! names carry `{{run}}`. The live run executes exactly those steps with the replay engine's step runner, so the
//! scenario printed for a failure fails on replay where the run diverged. Requests are built by the mock IdP clients
//! ([`crate::idp::MockClient`]) where an IdP shape is chosen, quirks included.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::check::Outcome;
use crate::http::{Client, Recorder, Request};
use crate::idp::{EntraMode, GROUP_URN, Idp, MockClient, USER_URN};
use crate::model::{Answer, Attr, CompareOp, Email, Filter, GroupChange, Model, Query, User, UserChange};
use crate::replay::scenario::{Assertion, Cleanup, Scenario, ScenarioFile, Statuses, Step, Then, Vars};
use crate::replay::{StepError, run_step};
use crate::target::Target;

/// Bases of userNames. Their letters never occur in a run prefix (`{{run}}` is made of digits, `a`–`f`, `c`, `d`,
/// `e`, `i`, `s`, `z`), so `co` and `ew` filters match the same users whatever the prefix.
const BASES: [&str; 6] = ["jon", "jony", "joy", "kurt", "lou", "molly"];
/// displayNames, distinct ignoring case, so equal sort keys are equal strings.
const DISPLAYS: [&str; 5] = ["Kurt Roy", "lou", "Molly", "Jo", "tom"];
/// Given names.
const GIVEN: [&str; 3] = ["Ulla", "Jon", "Mary"];
/// Group names (after `{{run}}.`).
const GROUPS: [&str; 3] = ["eng", "ops", "Sales"];
/// The canonical `type` values of `emails` (RFC 7643 §4.1.2).
const KINDS: [&str; 3] = ["work", "home", "other"];

/// Which client shapes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Plain RFC 7644.
    Generic,
    /// Okta's SCIM client.
    Okta,
    /// Entra, default (legacy) mode.
    EntraLegacy,
    /// Entra with `aadOptscim062020`.
    Entra2020,
}

impl Shape {
    fn client(self) -> MockClient {
        MockClient::of(match self {
            Shape::Generic => Idp::Generic,
            Shape::Okta => Idp::Okta,
            Shape::EntraLegacy => Idp::Entra(EntraMode::Legacy),
            Shape::Entra2020 => Idp::Entra(EntraMode::Aad2020),
        })
    }
}

/// A change to a user, as generated (indexes into the pools; emails get fresh values when planned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserOp {
    /// Replace `displayName` (remove when `None`).
    Display(Option<u8>),
    /// Set `active` in a client's shape.
    Active(bool, Shape),
    /// Replace `emails` with new values of these types.
    ReplaceEmails(Vec<u8>),
    /// Add new values of these types to `emails`.
    AddEmails(Vec<u8>),
    /// Remove `emails[type eq "…"]`.
    RemoveEmailsOfType(u8),
    /// Replace `emails[type eq "…"].value` with a new value.
    SetEmailOfType(u8),
    /// A profile update (given name and work e-mail) in a client's shape.
    Profile(Shape, u8),
    /// Replace `userName` (base and case): a 409 when another live user has it ignoring case.
    UserName((u8, u8)),
    /// A valid `displayName` replace followed by a `remove` of the required `userName`: refused, and nothing of
    /// it may stick.
    Refused(u8),
}

/// A change to a group, as generated (members are indexes into the created users).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupOp {
    /// Add members, in a client's shape.
    Add(Vec<u8>, Shape),
    /// Remove members, in a client's shape.
    Remove(Vec<u8>, Shape),
    /// Replace `members` with exactly these.
    Replace(Vec<u8>),
    /// Rename, in a client's shape.
    Rename(u8, Shape),
}

/// A generated filter: attribute, operator, which literal, negation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSpec {
    /// `userName` (0), `displayName` (1) or the multi-valued `emails.type` (2).
    pub attr: u8,
    /// Index into eq, ne, co, sw, ew, gt, lt, pr.
    pub op: u8,
    /// Which pool value the literal comes from.
    pub source: u8,
    /// How much of it (a prefix or suffix length).
    pub cut: u8,
    /// Case of the literal: lower, upper or title.
    pub case: u8,
    /// Wrapped in `not ( … )`.
    pub negated: bool,
}

/// One generated operation. Users and groups are named by index into those created so far (modulo their number),
/// so every subsequence of a sequence is a valid sequence, which is what shrinking needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `POST /Users`.
    CreateUser {
        /// userName base and case.
        name: (u8, u8),
        /// displayName.
        display: Option<u8>,
        /// Types of the e-mails.
        emails: Vec<u8>,
    },
    /// `PUT /Users/{id}`, with the same userName unless `rename`.
    PutUser {
        /// Which user.
        user: u8,
        /// A new userName (base and case).
        rename: Option<(u8, u8)>,
        /// displayName.
        display: Option<u8>,
        /// active.
        active: bool,
        /// Types of the e-mails.
        emails: Vec<u8>,
    },
    /// `PATCH /Users/{id}`.
    PatchUser {
        /// Which user.
        user: u8,
        /// The change.
        change: UserOp,
    },
    /// `DELETE /Users/{id}`.
    DeleteUser {
        /// Which user.
        user: u8,
    },
    /// `POST /Groups`.
    CreateGroup {
        /// Name index.
        name: u8,
        /// Members.
        members: Vec<u8>,
    },
    /// `PATCH /Groups/{id}`.
    PatchGroup {
        /// Which group.
        group: u8,
        /// The change.
        change: GroupOp,
    },
    /// `DELETE /Groups/{id}`.
    DeleteGroup {
        /// Which group.
        group: u8,
    },
    /// The lookup before create, as an IdP sends it: `userName eq` a name (in another case, perhaps).
    Lookup {
        /// userName base and case.
        name: (u8, u8),
        /// Whose request.
        shape: Shape,
    },
    /// `GET /Users?filter=…&sortBy=…&startIndex=…`.
    Query {
        /// Filter.
        filter: Option<FilterSpec>,
        /// `sortBy` userName (true) or displayName, and the sortOrder (`None`: omitted, ascending by default).
        sort: Option<(bool, Option<bool>)>,
        /// startIndex and count.
        page: Option<(u8, u8)>,
    },
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![Just(Shape::Generic), Just(Shape::Okta), Just(Shape::EntraLegacy), Just(Shape::Entra2020)]
}

fn kinds(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0..3u8, 0..=max)
}

fn user_op() -> impl Strategy<Value = UserOp> {
    prop_oneof![
        1 => prop::option::of(0..5u8).prop_map(UserOp::Display),
        1 => (any::<bool>(), shape()).prop_map(|(a, s)| UserOp::Active(a, s)),
        2 => kinds(2).prop_map(UserOp::ReplaceEmails),
        1 => kinds(2).prop_map(UserOp::AddEmails),
        1 => (0..3u8).prop_map(UserOp::RemoveEmailsOfType),
        1 => (0..3u8).prop_map(UserOp::SetEmailOfType),
        1 => (shape(), 0..3u8).prop_map(|(s, g)| UserOp::Profile(s, g)),
        1 => (0..6u8, 0..3u8).prop_map(UserOp::UserName),
        1 => (0..5u8).prop_map(UserOp::Refused),
    ]
}

fn group_op() -> impl Strategy<Value = GroupOp> {
    let members = || prop::collection::vec(any::<u8>(), 1..=2);
    prop_oneof![
        (members(), shape()).prop_map(|(m, s)| GroupOp::Add(m, s)),
        (members(), shape()).prop_map(|(m, s)| GroupOp::Remove(m, s)),
        prop::collection::vec(any::<u8>(), 0..=2).prop_map(GroupOp::Replace),
        (0..3u8, shape()).prop_map(|(n, s)| GroupOp::Rename(n, s)),
    ]
}

fn filter_spec() -> impl Strategy<Value = FilterSpec> {
    (0..3u8, 0..8u8, any::<u8>(), 0..6u8, 0..3u8, prop::bool::weighted(0.15))
        .prop_map(|(attr, op, source, cut, case, negated)| FilterSpec { attr, op, source, cut, case, negated })
}

/// One operation.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => ((0..6u8, 0..3u8), prop::option::of(0..5u8), kinds(2))
            .prop_map(|(name, display, emails)| Op::CreateUser { name, display, emails }),
        1 => (any::<u8>(), prop::option::of((0..6u8, 0..3u8)), prop::option::of(0..5u8), any::<bool>(), kinds(2))
            .prop_map(|(user, rename, display, active, emails)| Op::PutUser { user, rename, display, active, emails }),
        4 => (any::<u8>(), user_op()).prop_map(|(user, change)| Op::PatchUser { user, change }),
        1 => any::<u8>().prop_map(|user| Op::DeleteUser { user }),
        2 => (0..3u8, prop::collection::vec(any::<u8>(), 0..=2))
            .prop_map(|(name, members)| Op::CreateGroup { name, members }),
        3 => (any::<u8>(), group_op()).prop_map(|(group, change)| Op::PatchGroup { group, change }),
        1 => any::<u8>().prop_map(|group| Op::DeleteGroup { group }),
        1 => ((0..6u8, 0..3u8), shape()).prop_map(|(name, shape)| Op::Lookup { name, shape }),
        4 => (
            prop::option::of(filter_spec()),
            prop::option::of((any::<bool>(), prop::option::of(any::<bool>()))),
            prop::option::of((1..4u8, 0..4u8)),
        )
            .prop_map(|(filter, sort, page)| Op::Query { filter, sort, page }),
    ]
}

/// A sequence of 1 to `max` operations; proptest shrinks it by dropping operations and simplifying each.
pub fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..=max.max(1))
}

fn case_of(s: &str, case: u8) -> String {
    match case % 3 {
        0 => s.to_lowercase(),
        1 => s.to_uppercase(),
        _ => {
            let mut c = s.chars();
            c.next().map(|f| f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
        }
    }
}

fn pick<T: Copy>(pool: &[T], i: u8) -> T {
    pool[usize::from(i) % pool.len()]
}

/// A template's user var.
fn uvar(slot: usize) -> String {
    format!("u{slot}")
}

fn gvar(slot: usize) -> String {
    format!("g{slot}")
}

fn tv(s: &str) -> toml::Value {
    toml::Value::String(s.to_owned())
}

fn assertion(path: &str) -> Assertion {
    Assertion {
        path: path.to_owned(),
        equals: None,
        equals_ci: None,
        equals_set: None,
        equals_list: None,
        contains: None,
        excludes: None,
        count: None,
        present: None,
    }
}

fn equals(path: &str, v: toml::Value) -> Assertion {
    Assertion { equals: Some(v), ..assertion(path) }
}

fn equals_opt(path: &str, v: Option<&str>) -> Assertion {
    match v {
        Some(v) => equals(path, tv(v)),
        None => Assertion { present: Some(false), ..assertion(path) },
    }
}

fn set(path: &str, vs: Vec<String>) -> Assertion {
    Assertion { equals_set: Some(vs.into_iter().map(toml::Value::String).collect()), ..assertion(path) }
}

fn list(path: &str, vs: Vec<String>) -> Assertion {
    Assertion { equals_list: Some(vs.into_iter().map(toml::Value::String).collect()), ..assertion(path) }
}

fn full_name(relative: &str) -> String {
    format!("{{{{run}}}}.{relative}")
}

/// What a user looks like on the wire, per the model: the attributes the fuzzer compares.
fn user_asserts(u: &User) -> Vec<Assertion> {
    let mut a = vec![
        equals("userName", tv(&full_name(&u.user_name))),
        equals_opt("displayName", u.display_name.as_deref()),
        equals("active", toml::Value::Boolean(u.active)),
        equals_opt("name.givenName", u.given_name.as_deref()),
        set("emails.value", u.emails.iter().map(|e| e.value.clone()).collect()),
    ];
    for k in KINDS {
        let values = u.emails.iter().filter(|e| e.kind == k).map(|e| e.value.clone()).collect();
        a.push(set(&format!("emails[type eq \"{k}\"].value"), values));
    }
    a
}

fn group_asserts(m: &Model, slot: usize) -> Vec<Assertion> {
    match m.group(slot) {
        Some(g) => vec![
            equals("displayName", tv(&full_name(&g.display_name))),
            set("members.value", g.members.iter().map(|u| format!("{{{{{}}}}}", uvar(*u))).collect()),
        ],
        None => Vec::new(),
    }
}

fn statuses(answer: Answer, ok: &[u16]) -> Statuses {
    match answer {
        Answer::Ok if ok.len() == 1 => Statuses::One(ok[0]),
        Answer::Ok => Statuses::Many(ok.to_vec()),
        Answer::NotFound => Statuses::One(404),
        Answer::Conflict => Statuses::One(409),
        Answer::BadRequest => Statuses::One(400),
    }
}

/// The statuses of a PATCH. A PATCH of a missing resource that is also invalid may be refused for either reason:
/// RFC 7644 gives no precedence between 404 and 400.
fn patch_statuses(answer: Answer, also_bad: bool) -> Statuses {
    match answer {
        Answer::NotFound if also_bad => Statuses::Many(vec![400, 404]),
        a => statuses(a, &[200, 204]),
    }
}

/// The plan of a sequence: the steps of each operation, the variables they need and the cleanup.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Variables (name, template), in order.
    pub vars: Vec<(String, String)>,
    /// The steps, each with the index of the operation it belongs to.
    pub steps: Vec<(usize, Step)>,
    /// Best-effort deletes of everything created.
    pub cleanup: Vec<Cleanup>,
}

struct Planner {
    model: Model,
    /// The relative userName of every created user slot (kept after delete, so a PUT on it has a body).
    names: BTreeMap<usize, String>,
    emails: usize,
    plan: Plan,
}

impl Planner {
    fn new(lenient: bool) -> Self {
        Planner { model: Model::new(lenient), names: BTreeMap::new(), emails: 0, plan: Plan::default() }
    }

    fn email(&mut self, kind: u8) -> Email {
        self.emails += 1;
        Email { kind: pick(&KINDS, kind).to_owned(), value: format!("{{{{run}}}}.e{}@example.com", self.emails) }
    }

    fn emails(&mut self, kinds: &[u8]) -> Vec<Email> {
        kinds.iter().map(|k| self.email(*k)).collect()
    }

    fn user_slot(&self, i: u8) -> Option<usize> {
        let c = self.model.created_users();
        (!c.is_empty()).then(|| c[usize::from(i) % c.len()])
    }

    fn group_slot(&self, i: u8) -> Option<usize> {
        let c = self.model.created_groups();
        (!c.is_empty()).then(|| c[usize::from(i) % c.len()])
    }

    fn members(&self, idx: &[u8]) -> BTreeSet<usize> {
        idx.iter().filter_map(|i| self.user_slot(*i)).collect()
    }

    fn step(&self, op: usize, title: String, spec: &str, expect: &str, req: Request, status: Statuses) -> Step {
        Step {
            id: format!("op{op}-{}", self.plan.steps.iter().filter(|(o, _)| *o == op).count() + 1),
            title,
            spec: spec.to_owned(),
            expect: expect.to_owned(),
            level: None,
            quirks: Vec::new(),
            method: req.method.to_string(),
            path: req.path,
            // Content-Type included: run_step then sends the body with the client's own media type.
            headers: req.headers.into_iter().collect(),
            body: req.body,
            status: Some(status),
            assert: Vec::new(),
            capture: BTreeMap::new(),
            then: None,
            then_assert: Vec::new(),
        }
    }

    /// A follow-up GET of a resource that must show the model's state (or be gone).
    fn then_state(&self, step: &mut Step, path: String, state: Option<Vec<Assertion>>) {
        match state {
            Some(a) => {
                step.then = Some(Then { path, status: None });
                step.then_assert = a;
            }
            None => step.then = Some(Then { path, status: Some(Statuses::One(404)) }),
        }
    }

    fn user_state(&self, slot: usize) -> Option<Vec<Assertion>> {
        self.model.user(slot).map(user_asserts)
    }

    fn push(&mut self, op: usize, step: Step) {
        self.plan.steps.push((op, step));
    }

    fn user_body(name: &str, u: &User) -> Value {
        let mut body = json!({"schemas": [USER_URN], "userName": full_name(name), "active": u.active});
        if let Some(o) = body.as_object_mut() {
            if let Some(d) = &u.display_name {
                o.insert("displayName".into(), json!(d));
            }
            if !u.emails.is_empty() {
                let e: Vec<Value> = u.emails.iter().map(|e| json!({"type": e.kind, "value": e.value})).collect();
                o.insert("emails".into(), Value::Array(e));
            }
        }
        body
    }

    fn plan(&mut self, i: usize, op: &Op) {
        match op {
            Op::CreateUser { name, display, emails } => {
                let rel = case_of(pick(&BASES, name.0), name.1);
                let user = User {
                    user_name: rel.clone(),
                    display_name: display.map(|d| pick(&DISPLAYS, d).to_owned()),
                    given_name: None,
                    active: true,
                    emails: self.emails(emails),
                };
                let body = Self::user_body(&rel, &user);
                let (answer, created) = self.model.create_user(user.clone());
                let req = Request::new(Method::POST, "/Users").json(&body);
                let mut s = self.step(
                    i,
                    format!("Create user {}", full_name(&rel)),
                    "RFC 7644 §3.3",
                    "A new userName is created (201, the resource in the body); one equal to a live user's ignoring \
                     case is a 409.",
                    req,
                    statuses(answer, &[201]),
                );
                if let Some(slot) = created {
                    self.names.insert(slot, rel);
                    s.assert = user_asserts(&user);
                    s.capture.insert(uvar(slot), "id".into());
                    let st = self.user_state(slot);
                    self.then_state(&mut s, format!("/Users/{{{{{}}}}}", uvar(slot)), st);
                    self.plan.cleanup.push(Cleanup {
                        method: "DELETE".into(),
                        path: format!("/Users/{{{{{}}}}}", uvar(slot)),
                        body: None,
                    });
                }
                self.push(i, s);
            }
            Op::PutUser { user, rename, display, active, emails } => {
                let Some(slot) = self.user_slot(*user) else { return };
                let rel = match rename {
                    Some((b, c)) => case_of(pick(&BASES, *b), *c),
                    None => self.names.get(&slot).cloned().unwrap_or_default(),
                };
                let u = User {
                    user_name: rel.clone(),
                    display_name: display.map(|d| pick(&DISPLAYS, d).to_owned()),
                    given_name: None,
                    active: *active,
                    emails: self.emails(emails),
                };
                let body = Self::user_body(&rel, &u);
                let answer = self.model.replace_user(slot, u.clone());
                let path = format!("/Users/{{{{{}}}}}", uvar(slot));
                let req = Request::new(Method::PUT, path.clone()).json(&body);
                let mut s = self.step(
                    i,
                    format!("Replace user u{slot} with PUT"),
                    "RFC 7644 §3.5.1",
                    "PUT replaces the resource: attributes the body omits are cleared.",
                    req,
                    statuses(answer, &[200]),
                );
                if answer == Answer::Ok {
                    s.assert = user_asserts(&u);
                    self.names.insert(slot, rel);
                }
                let st = self.user_state(slot);
                self.then_state(&mut s, path, st);
                self.push(i, s);
            }
            Op::PatchUser { user, change } => {
                let Some(slot) = self.user_slot(*user) else { return };
                let id = format!("{{{{{}}}}}", uvar(slot));
                let path = format!("/Users/{id}");
                let patch = |ops: Value| {
                    Request::new(Method::PATCH, path.clone())
                        .json(&json!({"schemas": [crate::idp::PATCH_URN], "Operations": ops}))
                };
                let (req, changes, quirk, what, spec) = match change {
                    UserOp::Display(d) => {
                        let v = d.map(|d| pick(&DISPLAYS, d).to_owned());
                        let ops = match &v {
                            Some(v) => json!([{"op": "replace", "path": "displayName", "value": v}]),
                            None => json!([{"op": "remove", "path": "displayName"}]),
                        };
                        let spec = if v.is_some() { "RFC 7644 §3.5.2.3" } else { "RFC 7644 §3.5.2.2" };
                        (patch(ops), vec![UserChange::DisplayName(v)], false, "displayName".to_owned(), spec)
                    }
                    UserOp::Active(a, sh) => (
                        sh.client().set_active(&id, *a),
                        vec![UserChange::Active(*a)],
                        *sh == Shape::EntraLegacy,
                        format!("active={a} as {}", sh.client().idp),
                        "RFC 7644 §3.5.2.3",
                    ),
                    UserOp::ReplaceEmails(k) => {
                        let e = self.emails(k);
                        let v: Vec<Value> = e.iter().map(|e| json!({"type": e.kind, "value": e.value})).collect();
                        (
                            patch(json!([{"op": "replace", "path": "emails", "value": v}])),
                            vec![UserChange::ReplaceEmails(e)],
                            false,
                            "replace of the multi-valued emails".to_owned(),
                            "RFC 7644 §3.5.2.3",
                        )
                    }
                    UserOp::AddEmails(k) => {
                        let e = self.emails(k);
                        let v: Vec<Value> = e.iter().map(|e| json!({"type": e.kind, "value": e.value})).collect();
                        (
                            patch(json!([{"op": "add", "path": "emails", "value": v}])),
                            vec![UserChange::AddEmails(e)],
                            false,
                            "add to emails".to_owned(),
                            "RFC 7644 §3.5.2.1",
                        )
                    }
                    UserOp::RemoveEmailsOfType(k) => {
                        let t = pick(&KINDS, *k);
                        (
                            patch(json!([{"op": "remove", "path": format!("emails[type eq \"{t}\"]")}])),
                            vec![UserChange::RemoveEmailsOfType(t.to_owned())],
                            false,
                            format!("remove of emails[type eq \"{t}\"]"),
                            "RFC 7644 §3.5.2.2",
                        )
                    }
                    UserOp::SetEmailOfType(k) => {
                        let e = self.email(*k);
                        let p = format!("emails[type eq \"{}\"].value", e.kind);
                        (
                            patch(json!([{"op": "replace", "path": p, "value": e.value}])),
                            vec![UserChange::SetEmailOfType(e.kind.clone(), e.value.clone())],
                            false,
                            format!("replace of {p}"),
                            "RFC 7644 §3.5.2.3",
                        )
                    }
                    UserOp::UserName((b, c)) => {
                        let rel = case_of(pick(&BASES, *b), *c);
                        (
                            patch(json!([{"op": "replace", "path": "userName", "value": full_name(&rel)}])),
                            vec![UserChange::UserName(rel)],
                            false,
                            "rename (userName)".to_owned(),
                            "RFC 7644 §3.12",
                        )
                    }
                    UserOp::Refused(d) => {
                        let v = pick(&DISPLAYS, *d);
                        (
                            patch(json!([
                                {"op": "replace", "path": "displayName", "value": v},
                                {"op": "remove", "path": "userName"}
                            ])),
                            vec![UserChange::DisplayName(Some(v.to_owned())), UserChange::RemoveUserName],
                            false,
                            "displayName, then remove of the required userName".to_owned(),
                            "RFC 7644 §3.5.2",
                        )
                    }
                    UserOp::Profile(sh, g) => {
                        let sh = if *sh == Shape::Okta { Shape::Generic } else { *sh };
                        let given = pick(&GIVEN, *g).to_owned();
                        let e = self.email(0);
                        (
                            sh.client().update_profile(&id, &given, &e.value),
                            vec![UserChange::GivenName(given), UserChange::SetEmailOfType("work".into(), e.value)],
                            sh != Shape::Generic,
                            format!("profile update as {}", sh.client().idp),
                            "RFC 7644 §3.5.2.3",
                        )
                    }
                };
                let answer = self.model.patch_user(slot, &changes, quirk);
                if let (Answer::Ok, Some(UserChange::UserName(n))) = (answer, changes.first()) {
                    self.names.insert(slot, n.clone());
                }
                let also_bad = quirk && !self.model.lenient;
                let mut s = self.step(
                    i,
                    format!("PATCH user u{slot}: {what}"),
                    spec,
                    "The PATCH applies as RFC 7644 §3.5.2 says (atomically: a refused PATCH changes nothing), and \
                     the user then reads back as the model predicts.",
                    req,
                    patch_statuses(answer, also_bad),
                );
                let st = self.user_state(slot);
                self.then_state(&mut s, path, st);
                self.push(i, s);
            }
            Op::DeleteUser { user } => {
                let Some(slot) = self.user_slot(*user) else { return };
                let groups = self.model.groups_of(slot);
                let answer = self.model.delete_user(slot);
                let path = format!("/Users/{{{{{}}}}}", uvar(slot));
                let mut s = self.step(
                    i,
                    format!("Delete user u{slot}"),
                    "RFC 7644 §3.6",
                    "DELETE answers 204; the resource is then 404 for every operation.",
                    Request::new(Method::DELETE, path.clone()),
                    statuses(answer, &[204]),
                );
                self.then_state(&mut s, path, None);
                self.push(i, s);
                for g in groups {
                    let gp = format!("/Groups/{{{{{}}}}}", gvar(g));
                    let mut s = self.step(
                        i,
                        format!("Group g{g} no longer lists u{slot}"),
                        "RFC 7644 §3.6",
                        "A deleted user is no longer a member of any group.",
                        Request::new(Method::GET, gp),
                        Statuses::One(200),
                    );
                    s.assert = group_asserts(&self.model, g);
                    self.push(i, s);
                }
            }
            Op::CreateGroup { name, members } => {
                let rel = pick(&GROUPS, *name).to_owned();
                let members = self.members(members);
                let body = json!({
                    "schemas": [GROUP_URN],
                    "displayName": full_name(&rel),
                    "members": members.iter().map(|m| json!({"value": format!("{{{{{}}}}}", uvar(*m))})).collect::<Vec<_>>(),
                });
                let slot = self.model.next_group_slot();
                let (answer, created) = self.model.create_group(rel.clone(), members);
                let mut s = self.step(
                    i,
                    format!("Create group {}", full_name(&rel)),
                    "RFC 7644 §3.3",
                    "A group of existing users is created (201); members that do not exist are refused.",
                    Request::new(Method::POST, "/Groups").json(&body),
                    statuses(answer, &[201]),
                );
                if created.is_some() {
                    s.capture.insert(gvar(slot), "id".into());
                    let path = format!("/Groups/{{{{{}}}}}", gvar(slot));
                    s.then = Some(Then { path: path.clone(), status: None });
                    s.then_assert = group_asserts(&self.model, slot);
                    self.plan.cleanup.insert(0, Cleanup { method: "DELETE".into(), path, body: None });
                }
                self.push(i, s);
            }
            Op::PatchGroup { group, change } => {
                let Some(slot) = self.group_slot(*group) else { return };
                let gid = format!("{{{{{}}}}}", gvar(slot));
                let ids = |m: &BTreeSet<usize>| m.iter().map(|u| format!("{{{{{}}}}}", uvar(*u))).collect::<Vec<_>>();
                let (req, changes, quirk, what, spec) = match change {
                    GroupOp::Add(m, sh) => {
                        let m = self.members(m);
                        if m.is_empty() {
                            return;
                        }
                        let ids = ids(&m);
                        let pairs: Vec<(&str, &str)> = ids.iter().map(|i| (i.as_str(), "member")).collect();
                        (
                            sh.client().add_members(&gid, &pairs),
                            vec![GroupChange::AddMembers(m)],
                            *sh == Shape::EntraLegacy,
                            format!("add members as {}", sh.client().idp),
                            "RFC 7644 §3.5.2.1",
                        )
                    }
                    GroupOp::Remove(m, sh) => {
                        let m = self.members(m);
                        if m.is_empty() {
                            return;
                        }
                        let ids = ids(&m);
                        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                        (
                            sh.client().remove_members(&gid, &refs),
                            vec![GroupChange::RemoveMembers(m)],
                            *sh == Shape::EntraLegacy,
                            format!("remove members as {}", sh.client().idp),
                            "RFC 7644 §3.5.2.2",
                        )
                    }
                    GroupOp::Replace(m) => {
                        let m = self.members(m);
                        let v: Vec<Value> = ids(&m).into_iter().map(|i| json!({"value": i})).collect();
                        let body = json!({"schemas": [crate::idp::PATCH_URN], "Operations": [{"op": "replace", "path": "members", "value": v}]});
                        (
                            Request::new(Method::PATCH, format!("/Groups/{gid}")).json(&body),
                            vec![GroupChange::ReplaceMembers(m)],
                            false,
                            "replace of the multi-valued members".to_owned(),
                            "RFC 7644 §3.5.2.3",
                        )
                    }
                    GroupOp::Rename(n, sh) => {
                        let rel = pick(&GROUPS, *n).to_owned();
                        (
                            sh.client().rename_group(&gid, &full_name(&rel)),
                            vec![GroupChange::Rename(rel)],
                            matches!(sh, Shape::EntraLegacy | Shape::Okta),
                            format!("rename as {}", sh.client().idp),
                            "RFC 7644 §3.5.2.3",
                        )
                    }
                };
                let answer = self.model.patch_group(slot, &changes, quirk);
                let dead_member = changes.iter().any(|c| match c {
                    GroupChange::AddMembers(m) | GroupChange::ReplaceMembers(m) => {
                        m.iter().any(|u| self.model.user(*u).is_none())
                    }
                    _ => false,
                });
                let also_bad = quirk && !self.model.lenient || dead_member;
                let path = format!("/Groups/{gid}");
                let mut s = self.step(
                    i,
                    format!("PATCH group g{slot}: {what}"),
                    spec,
                    "The PATCH applies as RFC 7644 §3.5.2 says (atomically), and the group then reads back as the \
                     model predicts.",
                    req,
                    patch_statuses(answer, also_bad),
                );
                match self.model.group(slot) {
                    Some(_) => {
                        s.then = Some(Then { path, status: None });
                        s.then_assert = group_asserts(&self.model, slot);
                    }
                    None => s.then = Some(Then { path, status: Some(Statuses::One(404)) }),
                }
                self.push(i, s);
            }
            Op::DeleteGroup { group } => {
                let Some(slot) = self.group_slot(*group) else { return };
                let answer = self.model.delete_group(slot);
                let path = format!("/Groups/{{{{{}}}}}", gvar(slot));
                let mut s = self.step(
                    i,
                    format!("Delete group g{slot}"),
                    "RFC 7644 §3.6",
                    "DELETE answers 204; the group is then 404.",
                    Request::new(Method::DELETE, path.clone()),
                    statuses(answer, &[204]),
                );
                s.then = Some(Then { path, status: Some(Statuses::One(404)) });
                self.push(i, s);
            }
            Op::Lookup { name, shape } => {
                let rel = case_of(pick(&BASES, name.0), name.1);
                let q = Query {
                    filter: Some(Filter {
                        attr: Attr::UserName,
                        op: CompareOp::Eq,
                        value: rel.clone(),
                        negated: false,
                    }),
                    sort: None,
                    page: None,
                };
                let listing = self.model.list_users(&q);
                // The mock client percent-encodes the whole filter; the run prefix must stay a template, so a
                // placeholder made of letters (which pass encoding unchanged) stands for it.
                let mut req = shape.client().lookup_user(&format!("RUNPREFIX.{rel}"));
                req.path = req.path.replace("RUNPREFIX", "{{run|url}}");
                let mut s = self.step(
                    i,
                    format!("Look up {} as {}", full_name(&rel), shape.client().idp),
                    "RFC 7644 §3.4.2.2",
                    "userName is caseExact false: the lookup finds the user whatever the case of either.",
                    req,
                    Statuses::One(200),
                );
                let ids = listing.page.iter().map(|u| format!("{{{{{}}}}}", uvar(*u))).collect();
                s.assert.push(equals("totalResults", toml::Value::Integer(listing.total as i64)));
                s.assert.push(set("Resources.id", ids));
                self.push(i, s);
            }
            Op::Query { filter, sort, page } => {
                let f = filter.as_ref().map(make_filter);
                let q = Query {
                    filter: f.clone(),
                    sort: sort.map(|(u, d)| (if u { Attr::UserName } else { Attr::DisplayName }, d == Some(true))),
                    page: page.map(|(s, c)| (usize::from(s), usize::from(c))),
                };
                let listing = self.model.list_users(&q);
                // Every query is scoped to this run's users, so other data on the target never shows.
                let scope = "userName sw \"{{run}}.\"".to_owned();
                let text = match &f {
                    Some(f) => format!("{scope} and ({})", render_filter(f)),
                    None => scope,
                };
                let var = format!("q{i}");
                self.plan.vars.push((var.clone(), text.clone()));
                let mut path = format!("/Users?filter={{{{{var}|url}}}}");
                if let Some((attr, desc)) = sort {
                    let _ = write!(path, "&sortBy={}", if *attr { "userName" } else { "displayName" });
                    if let Some(d) = desc {
                        let _ = write!(path, "&sortOrder={}", if *d { "descending" } else { "ascending" });
                    }
                }
                if let Some((s, c)) = page {
                    let _ = write!(path, "&startIndex={s}&count={c}");
                }
                let mut s = self.step(
                    i,
                    format!("List users where {text}"),
                    "RFC 7644 §3.4.2",
                    "The filter (§3.4.2.2, case-insensitive on caseExact-false strings), the sort (§3.4.2.3) and \
                     the page (§3.4.2.4) select exactly the users the model selects.",
                    Request::new(Method::GET, path),
                    Statuses::One(200),
                );
                let ids = |slots: &[usize]| slots.iter().map(|u| format!("{{{{{}}}}}", uvar(*u))).collect::<Vec<_>>();
                s.assert.push(equals("totalResults", toml::Value::Integer(listing.total as i64)));
                if listing.ordered {
                    s.assert.push(list("Resources.id", ids(&listing.page)));
                } else if q.page.is_none() {
                    s.assert.push(set("Resources.id", ids(&listing.page)));
                } else {
                    s.assert.push(Assertion { count: Some(listing.page.len()), ..assertion("Resources") });
                }
                if let Some(keys) = listing.sort_keys {
                    s.assert.push(list("Resources.displayName", keys));
                }
                self.push(i, s);
            }
        }
    }
}

/// The model filter a spec stands for (userName literals are relative to the run prefix).
fn make_filter(f: &FilterSpec) -> Filter {
    let op = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Lt,
        CompareOp::Pr,
    ][usize::from(f.op) % 8];
    let attr = [Attr::UserName, Attr::DisplayName, Attr::EmailType][usize::from(f.attr) % 3];
    let source = match attr {
        Attr::UserName => pick(&BASES, f.source),
        Attr::DisplayName => pick(&DISPLAYS, f.source),
        Attr::EmailType => pick(&KINDS, f.source),
    };
    let chars: Vec<char> = source.chars().collect();
    let cut = (usize::from(f.cut) % chars.len()) + 1;
    let text: String = match op {
        CompareOp::Ew => chars[chars.len() - cut..].iter().collect(),
        CompareOp::Co => {
            let start = (chars.len() - cut) / 2;
            chars[start..start + cut].iter().collect()
        }
        CompareOp::Pr => String::new(),
        _ => chars[..cut].iter().collect(),
    };
    // `ne` on a multi-valued attribute is read two ways (no value equals, or some value differs); RFC 7644
    // §3.4.2.2 defines `not` and "any value matches" exactly, so the fuzzer asks for `not (… eq …)` instead.
    let (op, negated) =
        if attr == Attr::EmailType && op == CompareOp::Ne { (CompareOp::Eq, !f.negated) } else { (op, f.negated) };
    Filter { attr, op, value: case_of(&text, f.case), negated }
}

/// The filter on the wire: userName literals of operators that compare from the start get the run prefix.
fn render_filter(f: &Filter) -> String {
    let mut wire = f.clone();
    if f.attr == Attr::UserName && !matches!(f.op, CompareOp::Co | CompareOp::Ew | CompareOp::Pr) {
        wire.value = full_name(&f.value);
    }
    wire.render()
}

/// Plans a whole sequence against a fresh model.
pub fn plan(ops: &[Op], lenient: bool) -> Plan {
    let mut p = Planner::new(lenient);
    for (i, op) in ops.iter().enumerate() {
        p.plan(i, op);
    }
    p.plan
}

/// How to fuzz.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// Random sequences to run.
    pub cases: u32,
    /// The seed: the same seed generates the same sequences.
    pub seed: u64,
    /// Longest sequence.
    pub max_ops: usize,
    /// Whether the target accepts the Okta and Entra quirks (the reference server's default); `false` for a target
    /// that follows RFC 7644 to the letter.
    pub lenient: bool,
    /// Most sequences tried while shrinking a failure.
    pub max_shrink: u32,
    /// Timeout of each HTTP request.
    pub timeout: Duration,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            cases: 64,
            seed: 0,
            max_ops: 24,
            lenient: true,
            max_shrink: 400,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Where a run diverged from the model.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// The shrunk sequence, up to and including the operation that diverged.
    pub ops: Vec<Op>,
    /// The length of the sequence before shrinking.
    pub original_len: usize,
    /// Sequences run while shrinking.
    pub shrink_runs: u32,
    /// The step that failed (`op2-1`) and its title.
    pub step: String,
    /// What the model predicted.
    pub expected: String,
    /// What the target did.
    pub actual: String,
    /// The scenario file (TOML) that replays the shrunk sequence.
    pub scenario: String,
}

/// The outcome of a fuzzing run.
#[derive(Debug, Clone)]
pub struct FuzzReport {
    /// Sequences run (not counting shrinking).
    pub cases: u32,
    /// Operations executed, shrinking included.
    pub ops: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The first divergence, shrunk.
    pub divergence: Option<Divergence>,
}

impl FuzzReport {
    /// Operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why fuzzing could not run.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    /// The target did not answer its discovery probe.
    #[error("target unreachable: {0}")]
    Unreachable(String),
    /// The options or the strategy are unusable.
    #[error("{0}")]
    Config(String),
}

/// A step that did not pass.
struct StepFailure {
    op: usize,
    step: String,
    expected: String,
    actual: String,
}

fn live_scenario() -> Scenario {
    Scenario {
        folder: "fuzz".into(),
        name: "live".into(),
        idp: Idp::Generic,
        file: ScenarioFile {
            title: String::new(),
            idp: "generic".into(),
            mode: None,
            sources: Vec::new(),
            description: None,
            headers: BTreeMap::new(),
            vars: toml::Table::new(),
            steps: Vec::new(),
            cleanup: Vec::new(),
        },
    }
}

/// Runs a plan under a fresh run prefix, then cleans up. Returns the first failing step, the operations executed
/// and the requests sent.
async fn execute(client: &Client, plan: &Plan, run: &str) -> (Option<StepFailure>, u64, u64) {
    let stub = live_scenario();
    let mut vars = Vars::new(run);
    for (name, t) in &plan.vars {
        if let Ok(v) = vars.render(t) {
            vars.set(name, v);
        }
    }
    let mut failure = None;
    let mut requests = 0u64;
    let mut last_op = None;
    let mut ops = 0u64;
    for (op, step) in &plan.steps {
        if last_op != Some(*op) {
            ops += 1;
            last_op = Some(*op);
        }
        let log = Recorder::new();
        let r = run_step(client, &stub, step, &mut vars, &log).await;
        requests += log.take().len() as u64;
        let (expected, actual) = match r {
            Ok(()) => continue,
            Err(StepError::Outcome(Outcome::Fail { expected, actual })) => (expected, actual),
            Err(StepError::Outcome(Outcome::Skip { reason })) => ("the step to run".into(), reason),
            Err(StepError::Outcome(Outcome::Pass)) => continue,
            Err(StepError::Missing(m)) => {
                (format!("a value for {{{{{m}}}}}"), "an earlier step did not capture it".into())
            }
        };
        failure = Some(StepFailure { op: *op, step: format!("{} ({})", step.id, step.title), expected, actual });
        break;
    }
    let scratch = Recorder::discarding();
    for c in &plan.cleanup {
        if let Ok(path) = vars.render(&c.path) {
            let _ = client.send(Request::new(Method::DELETE, path), &scratch).await;
            requests += 1;
        }
    }
    (failure, ops, requests)
}

/// 32 seed bytes from a u64 (splitmix64), so nearby seeds give unrelated streams.
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut x = seed;
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// Fuzzes the target: `opts.cases` random sequences, each compared with the model after every operation; the
/// first divergence is shrunk and returned with its scenario. `progress` gets the number of cases done.
pub async fn fuzz(
    target: &Target,
    opts: &FuzzOptions,
    progress: &(dyn Fn(u32) + Sync),
) -> Result<FuzzReport, FuzzError> {
    let client = crate::runner::connect(target, opts.timeout).await.map_err(|e| match e {
        crate::runner::RunError::Unreachable(m) => FuzzError::Unreachable(m),
        crate::runner::RunError::Config(m) => FuzzError::Config(m),
    })?;
    let started = Instant::now();
    let mut runner = TestRunner::new_with_rng(
        Config { failure_persistence: None, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(opts.seed)),
    );
    let strategy = ops(opts.max_ops);
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut runs = 0u64;
    let mut next_run = || {
        runs += 1;
        // Digits and a-f, with `e` and `z` as separators: none of the userName letters (see BASES).
        format!("fz{}e{runs}", &tag[..8])
    };
    let (mut total_ops, mut requests) = (0u64, 0u64);
    for case in 0..opts.cases {
        let mut tree = strategy.new_tree(&mut runner).map_err(|e| FuzzError::Config(e.to_string()))?;
        let first = tree.current();
        let (failure, n, r) = execute(&client, &plan(&first, opts.lenient), &next_run()).await;
        total_ops += n;
        requests += r;
        let Some(failure) = failure else {
            progress(case + 1);
            continue;
        };
        let original_len = first.len();
        let mut best = (first, failure);
        let mut shrink_runs = 0;
        if tree.simplify() {
            while shrink_runs < opts.max_shrink {
                shrink_runs += 1;
                let candidate = tree.current();
                let (f, n, r) = execute(&client, &plan(&candidate, opts.lenient), &next_run()).await;
                total_ops += n;
                requests += r;
                match f {
                    Some(f) => {
                        best = (candidate, f);
                        if !tree.simplify() {
                            break;
                        }
                    }
                    None => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
        let (mut ops, mut f) = best;
        // What follows the diverging operation plays no part in it.
        ops.truncate(f.op + 1);
        // proptest drops elements before it simplifies them, so an operation that only became redundant later
        // (a create that now conflicts) survives; one more pass drops each operation that is not needed.
        let mut i = ops.len();
        while i > 0 && shrink_runs < opts.max_shrink {
            i -= 1;
            if ops.len() == 1 {
                break;
            }
            let mut candidate = ops.clone();
            candidate.remove(i);
            shrink_runs += 1;
            let (got, n, r) = execute(&client, &plan(&candidate, opts.lenient), &next_run()).await;
            total_ops += n;
            requests += r;
            if let Some(g) = got {
                candidate.truncate(g.op + 1);
                ops = candidate;
                f = g;
                i = i.min(ops.len());
            }
        }
        let scenario = scenario_text(&ops, opts, &f);
        progress(case + 1);
        return Ok(FuzzReport {
            cases: case + 1,
            ops: total_ops,
            requests,
            elapsed: started.elapsed(),
            divergence: Some(Divergence {
                ops,
                original_len,
                shrink_runs,
                step: f.step,
                expected: f.expected,
                actual: f.actual,
                scenario,
            }),
        });
    }
    Ok(FuzzReport { cases: opts.cases, ops: total_ops, requests, elapsed: started.elapsed(), divergence: None })
}

fn statuses_toml(s: &Statuses) -> toml::Value {
    match s {
        Statuses::One(x) => toml::Value::Integer(i64::from(*x)),
        Statuses::Many(v) => toml::Value::Array(v.iter().map(|x| toml::Value::Integer(i64::from(*x))).collect()),
    }
}

fn assertion_toml(a: &Assertion) -> toml::Value {
    let mut t = toml::Table::new();
    t.insert("path".into(), tv(&a.path));
    let arr = |v: &Vec<toml::Value>| toml::Value::Array(v.clone());
    if let Some(v) = &a.equals {
        t.insert("equals".into(), v.clone());
    } else if let Some(v) = &a.equals_ci {
        t.insert("equals_ci".into(), tv(v));
    } else if let Some(v) = &a.equals_set {
        t.insert("equals_set".into(), arr(v));
    } else if let Some(v) = &a.equals_list {
        t.insert("equals_list".into(), arr(v));
    } else if let Some(v) = &a.contains {
        t.insert("contains".into(), arr(v));
    } else if let Some(v) = &a.excludes {
        t.insert("excludes".into(), arr(v));
    } else if let Some(n) = a.count {
        t.insert("count".into(), toml::Value::Integer(n as i64));
    } else if let Some(p) = a.present {
        t.insert("present".into(), toml::Value::Boolean(p));
    }
    toml::Value::Table(t)
}

fn step_toml(s: &Step) -> toml::Value {
    let mut t = toml::Table::new();
    for (k, v) in [("id", &s.id), ("title", &s.title), ("spec", &s.spec), ("expect", &s.expect)] {
        t.insert(k.into(), tv(v));
    }
    t.insert("method".into(), tv(&s.method));
    t.insert("path".into(), tv(&s.path));
    if !s.headers.is_empty() {
        t.insert("headers".into(), toml::Value::Table(s.headers.iter().map(|(k, v)| (k.clone(), tv(v))).collect()));
    }
    if let Some(b) = &s.body {
        t.insert("body".into(), tv(b));
    }
    if let Some(st) = &s.status {
        t.insert("status".into(), statuses_toml(st));
    }
    if !s.capture.is_empty() {
        t.insert("capture".into(), toml::Value::Table(s.capture.iter().map(|(k, v)| (k.clone(), tv(v))).collect()));
    }
    if !s.assert.is_empty() {
        t.insert("assert".into(), toml::Value::Array(s.assert.iter().map(assertion_toml).collect()));
    }
    if let Some(then) = &s.then {
        let mut th = toml::Table::new();
        th.insert("path".into(), tv(&then.path));
        if let Some(st) = &then.status {
            th.insert("status".into(), statuses_toml(st));
        }
        t.insert("then".into(), toml::Value::Table(th));
    }
    if !s.then_assert.is_empty() {
        t.insert("then_assert".into(), toml::Value::Array(s.then_assert.iter().map(assertion_toml).collect()));
    }
    toml::Value::Table(t)
}

/// The scenario file of a sequence: its steps, variables and cleanup, in `scenarios/README.md` format.
fn scenario_text(ops: &[Op], opts: &FuzzOptions, f: &StepFailure) -> String {
    let p = plan(ops, opts.lenient);
    let mut t = toml::Table::new();
    t.insert("title".into(), tv(&format!("Shrunk divergence from the model (seed {})", opts.seed)));
    t.insert("idp".into(), tv("generic"));
    t.insert("sources".into(), toml::Value::Array(vec![tv("RFC 7644"), tv("idconform fuzz scim")]));
    let ops_text: Vec<String> = ops.iter().enumerate().map(|(i, o)| format!("op{i}: {o:?}")).collect();
    t.insert(
        "description".into(),
        tv(&format!(
            "Found by `idconform fuzz scim --seed {}` (lenient model: {}). The target diverged at step {}: expected \
             {}; got {}.\nOperations:\n{}",
            opts.seed,
            opts.lenient,
            f.step,
            f.expected,
            f.actual,
            ops_text.join("\n")
        )),
    );
    t.insert("vars".into(), toml::Value::Table(p.vars.iter().map(|(k, v)| (k.clone(), tv(v))).collect()));
    t.insert("steps".into(), toml::Value::Array(p.steps.iter().map(|(_, s)| step_toml(s)).collect()));
    let cleanup: Vec<toml::Value> = p
        .cleanup
        .iter()
        .map(|c| {
            let mut ct = toml::Table::new();
            ct.insert("method".into(), tv(&c.method));
            ct.insert("path".into(), tv(&c.path));
            toml::Value::Table(ct)
        })
        .collect();
    if !cleanup.is_empty() {
        t.insert("cleanup".into(), toml::Value::Array(cleanup));
    }
    toml::to_string(&t).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_print_as_scenarios_that_parse() {
        let ops = vec![
            Op::CreateUser { name: (0, 2), display: Some(0), emails: vec![0, 1] },
            Op::CreateUser { name: (0, 1), display: None, emails: vec![] },
            Op::CreateGroup { name: 0, members: vec![0] },
            Op::PatchUser { user: 0, change: UserOp::ReplaceEmails(vec![2]) },
            Op::PatchGroup { group: 0, change: GroupOp::Add(vec![1], Shape::EntraLegacy) },
            Op::Query {
                filter: Some(FilterSpec { attr: 0, op: 3, source: 0, cut: 1, case: 1, negated: false }),
                sort: Some((true, Some(true))),
                page: Some((1, 2)),
            },
            Op::DeleteUser { user: 0 },
            Op::Lookup { name: (0, 1), shape: Shape::Okta },
        ];
        let f = StepFailure { op: 6, step: "op6-1".into(), expected: "x".into(), actual: "y".into() };
        let text = scenario_text(&ops, &FuzzOptions::default(), &f);
        let s = match Scenario::parse("fuzz", "t", &text) {
            Ok(s) => s,
            Err(e) => panic!("{e}\n{text}"),
        };
        // The second create conflicts (JON vs Jon) and captures nothing.
        assert_eq!(s.file.steps[1].status, Some(Statuses::One(409)));
        assert!(s.file.steps[1].capture.is_empty());
        let q = s.file.steps.iter().find(|st| st.id == "op5-1").map(|st| st.path.clone()).unwrap_or_default();
        assert!(q.contains("sortOrder=descending") && q.contains("startIndex=1&count=2"), "{q}");
        assert_eq!(
            s.file.vars.get("q5").and_then(|v| v.as_str()),
            Some("userName sw \"{{run}}.\" and (userName sw \"{{run}}.JO\")")
        );
        // Deleting u0 also reads back the group it was in.
        assert_eq!(s.file.steps.iter().filter(|st| st.id.starts_with("op6-")).count(), 2);
        assert_eq!(s.file.cleanup.len(), 2);
        // Okta's lookup keeps its paging and the prefix stays a template; the deleted user is not found.
        let lookup = s.file.steps.iter().find(|st| st.id == "op7-1").map(|st| st.path.clone()).unwrap_or_default();
        assert_eq!(
            Vars::new("r1").render(&lookup).ok().as_deref(),
            Some("/Users?filter=userName%20eq%20%22r1.JON%22&startIndex=1&count=100")
        );
    }

    #[test]
    fn filters_keep_literals_inside_their_source() {
        for op in 0..8 {
            for cut in 0..6 {
                let f = make_filter(&FilterSpec { attr: 1, op, source: 0, cut, case: 0, negated: false });
                assert!(f.op == CompareOp::Pr || "kurt roy".contains(&f.value), "{f:?}");
            }
        }
    }

    #[test]
    fn the_same_seed_generates_the_same_sequences() {
        let gen_one = |seed| {
            let mut r = TestRunner::new_with_rng(
                Config::default(),
                TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
            );
            ops(10).new_tree(&mut r).map(|t| t.current()).ok()
        };
        assert_eq!(gen_one(7), gen_one(7));
        assert_ne!(gen_one(7), gen_one(8));
    }
}
