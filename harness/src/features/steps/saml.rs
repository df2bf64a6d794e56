//! SAML 2.0 steps: the mock IdP of [`crate::saml`] starts sign-ins, posts valid and forged Responses to the SP's ACS
//! (HTTP-POST binding), and the SP's answer is judged by the target's success rules — the same context ([`SCtx`]),
//! Responses ([`ResponseSpec`]) and forgeries ([`attacks`]) as the SAML suite, so a scenario and a check that send
//! the same thing judge it alike.
//!
//! Forgeries that claim an identity are built as the suite builds them: the attacker holds a validly signed
//! assertion for an account of their own and makes it claim the target's user.

use chrono::Duration;
use cucumber::step::Context;

use super::{StepDef, args};
use crate::check::Outcome;
use crate::features::world::{PostedResponse, ScimWorld, StepFailure, StepResult, failure};
use crate::http::Response;
use crate::saml::attacks::{self, Dtd, Xsw};
use crate::saml::{AttributeStyle, NamespaceStyle, ResponseSpec, SCtx, SigningMode};
// "Just beyond" and "just within the clock skew" are the suite's margins.
use crate::suites::saml::{ATTACKER_NAME_ID, BEYOND_SKEW, INSIDE_SKEW};

/// The steps of this module.
pub fn steps() -> Vec<StepDef> {
    vec![
        crate::step!(
            r"^the user starts signing in$",
            "Starts a sign-in the target's way: at the SP when the target has a `login_url` (a fresh AuthnRequest \
             the Responses then answer), else at the IdP (the Responses are unsolicited).",
            "Given the user starts signing in",
            start
        ),
        crate::step!(
            r"^the SP has started a sign-in$",
            "GETs the target's `login_url` and reads the ID of the AuthnRequest its redirect carries (SAML Bindings \
             §3.4.4.1); the Responses then answer it. Fails without a `login_url`.",
            "Given the SP has started a sign-in",
            start_sp
        ),
        crate::step!(
            r"^the IdP is (Okta|Entra)$",
            "Later Responses carry that IdP's attribute statement and namespace prefixes (Okta: `email`, \
             `firstName`, `lastName`, `saml2:`; Entra: the claim URIs, object and tenant IDs, the default namespace).",
            "Given the IdP is Entra",
            style
        ),
        crate::step!(
            r#"^the RelayState is ["'](.*)["']$"#,
            "Later Responses are posted with this RelayState instead of the target's `relay_state`.",
            r#"Given the RelayState is "/settings?tab=sso""#,
            relay_state
        ),
        crate::step!(
            r#"^the IdP posts a valid Response for (?:the target's user|["']([^"']*)["'])$"#,
            "Posts a valid, signed Response for the target's user (`name_id`) or for the named NameID, answering \
             the sign-in's request.",
            r#"When the IdP posts a valid Response for "nobody@example.com""#,
            valid
        ),
        crate::step!(
            r"^the IdP posts an unsolicited Response for the target's user$",
            "Posts a valid, signed Response without InResponseTo (IdP-initiated, SAML Profiles §4.1.5); needs no \
             started sign-in.",
            "When the IdP posts an unsolicited Response for the target's user",
            unsolicited
        ),
        crate::step!(
            r"^the IdP posts an unsigned Response$",
            "Posts a Response with every signature removed (signature exclusion).",
            "When the IdP posts an unsigned Response",
            unsigned
        ),
        crate::step!(
            r"^the IdP posts a Response signed by a foreign key$",
            "Posts a Response signed by another key, KeyInfo still carrying the IdP's certificate.",
            "When the IdP posts a Response signed by a foreign key",
            foreign_key
        ),
        crate::step!(
            r"^the IdP posts a Response signed by an attacker with their certificate in KeyInfo$",
            "Posts a Response signed by an attacker's key, KeyInfo carrying the attacker's certificate \
             (CVE-2021-21239).",
            "When the IdP posts a Response signed by an attacker with their certificate in KeyInfo",
            attacker_certificate
        ),
        crate::step!(
            r"^the IdP posts a Response whose NameID was changed after signing$",
            "Posts the attacker's signed Response with its NameID changed to the target's user afterwards (the \
             digest no longer matches).",
            "When the IdP posts a Response whose NameID was changed after signing",
            tampered
        ),
        crate::step!(
            r"^the IdP posts a Response wrapped as (XSW[1-8])$",
            "Posts the attacker's signed Response rearranged by that XML Signature Wrapping (XSW1–2 wrap the \
             Response's signature, XSW3–8 the Assertion's) so the unsigned part claims the target's user.",
            "When the IdP posts a Response wrapped as XSW3",
            wrapped
        ),
        crate::step!(
            r"^the IdP posts a Response with a second, unsigned Assertion$",
            "Posts the attacker's signed Response with an unsigned Assertion for the target's user after the signed \
             one (CVE-2022-41912).",
            "When the IdP posts a Response with a second, unsigned Assertion",
            duplicate
        ),
        crate::step!(
            r"^the IdP posts a Response with (a comment|a CDATA section) in the NameID$",
            "Posts a validly signed Response for the account `<user>.attacker.example` with an empty comment, or \
             the rest as a CDATA section, after the target's user in the NameID (CVE-2017-11427 family): the \
             signature still verifies, and read in full it names no known user.",
            "When the IdP posts a Response with a CDATA section in the NameID",
            split_name_id
        ),
        crate::step!(
            r"^the IdP posts a Response with a decoy Assertion of another namespace$",
            "Posts the attacker's signed Response with an unsigned copy claiming the target's user first, renamed \
             into another namespace (Namespaces in XML 1.0 §2.1): only an SP matching local names reads it.",
            "When the IdP posts a Response with a decoy Assertion of another namespace",
            decoy
        ),
        crate::step!(
            r"^the IdP posts a Response with a second root element$",
            "Posts the attacker's signed Assertion as a root element of its own, then the Response with every \
             signature removed claiming the target's user (XML 1.0 §2.1 allows one root; CVE-2022-39299).",
            "When the IdP posts a Response with a second root element",
            second_root
        ),
        crate::step!(
            r"^another workspace's IdP posts a Response for the target's user$",
            "Posts a Response for this sign-in (this SP's Audience, the target's user) signed by the IdP of another \
             workspace of the same SP, under the Issuer that workspace's connection names (`[saml.other_workspace]` \
             in the target file).",
            "When another workspace's IdP posts a Response for the target's user",
            other_workspace
        ),
        crate::step!(
            r"^the IdP posts a Response with (an internal entity|an external entity|nested entities) in a DOCTYPE$",
            "Posts a signed Response behind a DOCTYPE whose entity the NameID references: the NameID itself, \
             `file:///etc/hostname` (XXE, CWE-611), or ten thousand nested copies (CWE-776).",
            "When the IdP posts a Response with an external entity in a DOCTYPE",
            doctype
        ),
        crate::step!(
            r"^the IdP posts a Response padded to (\d+) (KiB|MiB)$",
            "Posts a validly signed Response padded with a comment to this size (CWE-400).",
            "When the IdP posts a Response padded to 1 MiB",
            padded
        ),
        crate::step!(
            r#"^the IdP posts a Response with the (Audience|Recipient|Destination|Issuer) ["']([^"']*)["']$"#,
            "Posts a validly signed Response with one value replaced: the Audience (SAML Core §2.5.1.4), the \
             bearer confirmation's Recipient, the Response's Destination, or both Issuers.",
            r#"When the IdP posts a Response with the Audience "https://other.example/metadata""#,
            with_value
        ),
        crate::step!(
            r"^the IdP posts a Response without an Audience$",
            "Posts a validly signed Response without AudienceRestriction (SAML Profiles §4.1.4.2).",
            "When the IdP posts a Response without an Audience",
            without_audience
        ),
        crate::step!(
            r"^the IdP posts a Response that expired (\d+) (seconds?|minutes?|hours?) ago$",
            "Posts a validly signed Response whose NotOnOrAfter (Conditions and confirmation) passed that long ago \
             by the SP's clock.",
            "When the IdP posts a Response that expired 10 minutes ago",
            expired_ago
        ),
        crate::step!(
            r"^the IdP posts a Response that expired just (beyond|within) the clock skew$",
            "As above, expired a minute more / five seconds less than the target's `skew_seconds` ago.",
            "When the IdP posts a Response that expired just within the clock skew",
            expired_skew
        ),
        crate::step!(
            r"^the IdP posts a Response that becomes valid in (\d+) (seconds?|minutes?|hours?)$",
            "Posts a validly signed Response whose NotBefore is that far ahead of the SP's clock (SAML Core \
             §2.5.1.2).",
            "When the IdP posts a Response that becomes valid in 10 minutes",
            valid_in
        ),
        crate::step!(
            r"^the IdP posts a Response that becomes valid just (beyond|within) the clock skew$",
            "As above, NotBefore a minute more / five seconds less than the target's `skew_seconds` ahead.",
            "When the IdP posts a Response that becomes valid just beyond the clock skew",
            valid_in_skew
        ),
        crate::step!(
            r"^the IdP posts a Response with status (Requester|Responder|VersionMismatch)(?:/(\w+))?$",
            "Posts a Response with this top-level status (and second-level status) around a valid signed assertion \
             (SAML Core §3.2.2.2).",
            "When the IdP posts a Response with status Responder/AuthnFailed",
            status
        ),
        crate::step!(
            r"^the IdP posts a Response to a request the SP never sent$",
            "Posts a valid, signed Response whose InResponseTo names a request the SP never sent (SAML Profiles \
             §4.1.4.3).",
            "When the IdP posts a Response to a request the SP never sent",
            wrong_request
        ),
        crate::step!(
            r"^the IdP posts a second Response to the same request$",
            "Posts a fresh valid Response (new IDs) answering the request the last Response answered (SAML Profiles \
             §4.1.4.5: a request is answered once).",
            "When the IdP posts a second Response to the same request",
            second_answer
        ),
        crate::step!(
            r"^the same Response is posted again$",
            "Posts the last Response again, byte for byte, with the same RelayState (a replay).",
            "When the same Response is posted again",
            replay
        ),
        crate::step!(
            r"^the sign-in succeeds$",
            "The SP's answer to the last Response is a sign-in by the target's rules (`success_status` and, when \
             named, `success_cookie` set).",
            "Then the sign-in succeeds",
            succeeds
        ),
        crate::step!(
            r"^the sign-in is refused$",
            "The SP's answer to the last Response is no sign-in by the target's rules.",
            "Then the sign-in is refused",
            refused
        ),
        crate::step!(
            r"^the sign-in succeeds only if the target accepts IdP-initiated sign-ins$",
            "For an unsolicited Response: a sign-in when the target accepts IdP-initiated sign-ins \
             (`idp_initiated` in `[saml]`, by default when it has no `login_url`), else a refusal.",
            "Then the sign-in succeeds only if the target accepts IdP-initiated sign-ins",
            unsolicited_judged
        ),
        crate::step!(
            r"^the SP sets the session cookie$",
            "The SP's answer sets the target's `success_cookie` with a value (and does not clear it).",
            "Then the SP sets the session cookie",
            session_cookie
        ),
        crate::step!(
            r#"^the SP redirects to ["']([^"']+)["']$"#,
            "The SP's answer is a redirect to this URL or path (both resolved against the ACS URL).",
            r#"Then the SP redirects to "/settings?tab=sso""#,
            redirects_to
        ),
        crate::step!(
            r#"^the SP does not redirect to ["']([^"']+)["']$"#,
            "The SP's answer is no redirect to this URL's site (it refused the sign-in or stayed on its own site).",
            r#"Then the SP does not redirect to "https://attacker.example/""#,
            not_redirected_to
        ),
    ]
}

/// A suite outcome as a step failure (a skip fails too: a scenario never passes without judging).
fn outcome(o: Outcome) -> StepFailure {
    match o {
        Outcome::Fail { expected, actual } => failure(format!("expected {expected}; got {actual}")),
        Outcome::Skip { reason } => failure(reason),
        Outcome::Pass => failure("the step passed and failed at once"),
    }
}

/// Moves the context's exchanges into the scenario's, for the report.
fn keep_exchanges(w: &ScimWorld) {
    if let Some(ctx) = &w.saml {
        for e in ctx.log().take() {
            w.log.push(e);
        }
    }
}

async fn start(w: &mut ScimWorld, _: Context) -> StepResult {
    let started = w.saml()?.start_login().await;
    keep_exchanges(w);
    w.sign_in.request_id = started.map_err(outcome)?;
    w.sign_in.started = true;
    Ok(())
}

async fn start_sp(w: &mut ScimWorld, _: Context) -> StepResult {
    let ctx = w.saml()?;
    if ctx.t().login_url.is_none() {
        return Err(failure(
            "the target has no login_url in [saml]: SP-initiated sign-in needs one (leave these scenarios out with \
             --tags 'not @sp-initiated')",
        ));
    }
    let started = ctx.solicited().await;
    keep_exchanges(w);
    w.sign_in.request_id = Some(started.map_err(outcome)?);
    w.sign_in.started = true;
    Ok(())
}

async fn style(w: &mut ScimWorld, ctx: Context) -> StepResult {
    w.sign_in.style = Some(match args(&ctx)[0].as_str() {
        "Entra" => (AttributeStyle::Entra, NamespaceStyle::Entra),
        _ => (AttributeStyle::Okta, NamespaceStyle::Okta),
    });
    Ok(())
}

async fn relay_state(w: &mut ScimWorld, ctx: Context) -> StepResult {
    w.sign_in.relay_state = Some(w.render(&args(&ctx)[0])?);
    Ok(())
}

/// A valid Response for the target's user answering the started sign-in, in the scenario's IdP style.
fn base(w: &ScimWorld) -> Result<ResponseSpec, StepFailure> {
    if !w.sign_in.started {
        return Err(failure(
            "no sign-in was started: begin with \"Given the user starts signing in\" or \"Given the SP has started a \
             sign-in\" (or post an unsolicited Response)",
        ));
    }
    Ok(styled(w, w.saml()?.spec(w.sign_in.request_id.clone())))
}

fn styled(w: &ScimWorld, spec: ResponseSpec) -> ResponseSpec {
    match w.sign_in.style {
        Some((a, n)) => spec.attribute_style(a).namespace_style(n),
        None => spec,
    }
}

/// A mock-IdP error as a step failure.
fn idp(e: crate::saml::SamlIdpError) -> StepFailure {
    outcome(crate::saml::run::idp_error(e))
}

/// Posts `xml` with the scenario's RelayState and keeps the answer as the sign-in's and the last response.
async fn post(w: &mut ScimWorld, spec: ResponseSpec, xml: String, what: String) -> StepResult {
    let ctx = w.saml()?;
    let relay = w.sign_in.relay_state.clone().unwrap_or_else(|| ctx.t().relay_state.clone());
    let answer = ctx.post_with(&xml, &relay).await;
    keep_exchanges(w);
    let answer = answer.map_err(outcome)?;
    w.sign_in.posted = Some(PostedResponse { spec, xml, what });
    w.last = Some(answer.clone());
    w.sign_in.answer = Some(answer);
    Ok(())
}

/// Signs `spec` with the key the SP trusts and posts it.
async fn post_signed(w: &mut ScimWorld, spec: ResponseSpec, what: String) -> StepResult {
    let xml = w.saml()?.sign(&spec).map_err(outcome)?;
    post(w, spec, xml, what).await
}

async fn valid(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let mut spec = base(w)?;
    let name = args(&ctx).first().filter(|n| !n.is_empty()).map(|n| w.render(n)).transpose()?;
    if let Some(n) = &name {
        spec = spec.name_id(n.clone()).email(n.clone());
    }
    let what = format!("a valid Response for {}", spec.name_id);
    post_signed(w, spec, what).await
}

async fn unsolicited(w: &mut ScimWorld, _: Context) -> StepResult {
    let spec = styled(w, w.saml()?.spec(None));
    let what = format!("an unsolicited (IdP-initiated) Response for {}", spec.name_id);
    post_signed(w, spec, what).await
}

async fn unsigned(w: &mut ScimWorld, _: Context) -> StepResult {
    let spec = base(w)?;
    let xml = attacks::unsigned(&w.saml()?.sign(&spec).map_err(outcome)?).map_err(idp)?;
    post(w, spec, xml, "a Response without any signature".into()).await
}

async fn foreign_key(w: &mut ScimWorld, _: Context) -> StepResult {
    let spec = base(w)?;
    let ctx = w.saml()?;
    let xml =
        attacks::signed_by_foreign_key(&ctx.sign(&spec).map_err(outcome)?, &ctx.t().key, &ctx.foreign).map_err(idp)?;
    post(w, spec, xml, "a Response signed by another key (KeyInfo: the IdP's certificate)".into()).await
}

async fn attacker_certificate(w: &mut ScimWorld, _: Context) -> StepResult {
    let spec = base(w)?;
    let ctx = w.saml()?;
    let xml = attacks::attacker_certificate(&ctx.sign(&spec).map_err(outcome)?, &ctx.foreign).map_err(idp)?;
    post(w, spec, xml, "a Response signed by an attacker's key with its certificate in KeyInfo".into()).await
}

/// The attacker's own validly signed Response, and the user it is forged to claim.
fn attackers(w: &ScimWorld, signing: SigningMode) -> Result<(ResponseSpec, String, &SCtx), StepFailure> {
    let spec = base(w)?.name_id(ATTACKER_NAME_ID).email(ATTACKER_NAME_ID).signing(signing);
    let ctx = w.saml()?;
    let signed = ctx.sign(&spec).map_err(outcome)?;
    Ok((spec, signed, ctx))
}

async fn tampered(w: &mut ScimWorld, _: Context) -> StepResult {
    let (spec, signed, ctx) = attackers(w, SigningMode::AssertionSigned)?;
    let victim = ctx.t().name_id.clone();
    let xml = attacks::tampered_name_id(&signed, &victim).map_err(idp)?;
    post(w, spec, xml, format!("a Response whose NameID was changed to {victim} after signing")).await
}

async fn wrapped(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let name = args(&ctx)[0].to_ascii_lowercase();
    let variant = Xsw::ALL.into_iter().find(|x| x.name() == name).ok_or_else(|| failure("XSW1 to XSW8"))?;
    let signing = if variant.wraps_response() { SigningMode::ResponseSigned } else { SigningMode::AssertionSigned };
    let (spec, signed, sctx) = attackers(w, signing)?;
    let victim = sctx.t().name_id.clone();
    let xml = attacks::xsw(&signed, variant, &victim).map_err(idp)?;
    post(w, spec, xml, format!("an {} signature wrapping claiming {victim}", name.to_uppercase())).await
}

async fn duplicate(w: &mut ScimWorld, _: Context) -> StepResult {
    let (spec, signed, ctx) = attackers(w, SigningMode::AssertionSigned)?;
    let victim = ctx.t().name_id.clone();
    let xml = attacks::duplicate_assertion(&signed, &victim).map_err(idp)?;
    post(w, spec, xml, format!("an unsigned second Assertion claiming {victim}")).await
}

async fn split_name_id(w: &mut ScimWorld, step: Context) -> StepResult {
    let ctx = w.saml()?;
    let victim = ctx.t().name_id.clone();
    let account = format!("{victim}.attacker.example");
    let spec = base(w)?.name_id(account.clone()).email(account.clone());
    let signed = ctx.sign(&spec).map_err(outcome)?;
    let how = args(&step)[0].clone();
    let xml = if how == "a comment" {
        attacks::comment_in_name_id(&signed, &victim)
    } else {
        attacks::cdata_in_name_id(&signed, &victim)
    }
    .map_err(idp)?;
    let what = format!("the NameID {account:?} with {how} after {victim:?} (no such user when read in full)");
    post(w, spec, xml, what).await
}

async fn decoy(w: &mut ScimWorld, _: Context) -> StepResult {
    let (spec, signed, ctx) = attackers(w, SigningMode::AssertionSigned)?;
    let victim = ctx.t().name_id.clone();
    let xml = attacks::foreign_namespace_assertion(&signed, &victim).map_err(idp)?;
    post(w, spec, xml, format!("a decoy Assertion in namespace {} claiming {victim}", attacks::DECOY_NS)).await
}

async fn second_root(w: &mut ScimWorld, _: Context) -> StepResult {
    let (spec, signed, ctx) = attackers(w, SigningMode::AssertionSigned)?;
    let victim = ctx.t().name_id.clone();
    let xml = attacks::second_root(&signed, &victim).map_err(idp)?;
    post(w, spec, xml, format!("the attacker's signed Assertion, then a second root claiming {victim}")).await
}

async fn other_workspace(w: &mut ScimWorld, _: Context) -> StepResult {
    let other = w.saml()?.t().other_workspace.clone().ok_or_else(|| {
        failure("the target describes no other workspace: add [saml.other_workspace] to the target file")
    })?;
    let spec = base(w)?.issuer(other.idp_entity_id.clone());
    let xml = spec.sign(&other.key).map_err(idp)?;
    let what = format!("a Response from Issuer {} signed by another workspace's IdP key", other.idp_entity_id);
    post(w, spec, xml, what).await
}

async fn doctype(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let (dtd, what) = match args(&ctx)[0].as_str() {
        "an internal entity" => (Dtd::InternalEntity, "a Response with a DOCTYPE whose entity is the NameID"),
        "an external entity" => (
            Dtd::ExternalEntity { system: "file:///etc/hostname".into() },
            "a Response with an external entity (file:///etc/hostname)",
        ),
        // Ten thousand copies: enough to show the SP expands entities, too few to harm one that does.
        _ => (Dtd::BillionLaughs { depth: 4 }, "a Response with nested entities"),
    };
    let spec = base(w)?;
    let xml = attacks::doctype(&w.saml()?.sign(&spec).map_err(outcome)?, &dtd).map_err(idp)?;
    post(w, spec, xml, what.into()).await
}

async fn padded(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let n: usize = a[0].parse().map_err(|_| failure("a size"))?;
    let bytes = n.saturating_mul(if a[1] == "MiB" { 1024 * 1024 } else { 1024 });
    let spec = base(w)?;
    let xml = attacks::oversized(&w.saml()?.sign(&spec).map_err(outcome)?, bytes).map_err(idp)?;
    post(w, spec, xml, format!("a Response padded to {n} {}", a[1])).await
}

async fn with_value(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let value = w.render(&a[1])?;
    let spec = base(w)?;
    let spec = match a[0].as_str() {
        "Audience" => spec.audience(Some(value.clone())),
        "Recipient" => spec.recipient(Some(value.clone())),
        "Destination" => spec.destination(Some(value.clone())),
        _ => spec.issuer(value.clone()),
    };
    post_signed(w, spec, format!("a Response with the {} {value}", a[0])).await
}

async fn without_audience(w: &mut ScimWorld, _: Context) -> StepResult {
    let spec = attacks::missing_audience(&base(w)?);
    post_signed(w, spec, "an assertion without AudienceRestriction".into()).await
}

/// `10 minutes` as a duration.
fn duration(n: &str, unit: &str) -> Result<Duration, StepFailure> {
    let n: i64 = n.parse().map_err(|_| failure(format!("{n} is not a number")))?;
    Ok(match unit.trim_end_matches('s') {
        "hour" => Duration::hours(n),
        "minute" => Duration::minutes(n),
        _ => Duration::seconds(n),
    })
}

/// The target's declared skew, a minute more (beyond) or five seconds less (within).
fn around_skew(w: &ScimWorld, side: &str) -> Result<Duration, StepFailure> {
    let skew = Duration::from_std(w.saml()?.t().skew).unwrap_or(Duration::days(1));
    Ok(if side == "beyond" { skew + BEYOND_SKEW } else { (skew - INSIDE_SKEW).max(Duration::zero()) })
}

fn skew_seconds(w: &ScimWorld) -> u64 {
    w.saml.as_ref().map_or(0, |c| c.t().skew.as_secs())
}

async fn post_expired(w: &mut ScimWorld, ago: Duration) -> StepResult {
    let base = base(w)?;
    // NotOnOrAfter exactly `ago` before the SP's now; the rest of the validity window before it.
    let until = base.now - ago;
    let spec = base
        .not_on_or_after(until)
        .not_before(until - Duration::minutes(5))
        .issue_instant(until - Duration::minutes(5));
    let what = format!("an assertion expired {} s ago (declared skew {} s)", ago.num_seconds(), skew_seconds(w));
    post_signed(w, spec, what).await
}

async fn expired_ago(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    post_expired(w, duration(&a[0], &a[1])?).await
}

async fn expired_skew(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let ago = around_skew(w, &args(&ctx)[0])?;
    post_expired(w, ago).await
}

async fn post_valid_in(w: &mut ScimWorld, ahead: Duration) -> StepResult {
    let spec = attacks::at_not_before_boundary(&base(w)?, ahead);
    let what = format!("an assertion valid from {} s ahead (declared skew {} s)", ahead.num_seconds(), skew_seconds(w));
    post_signed(w, spec, what).await
}

async fn valid_in(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    post_valid_in(w, duration(&a[0], &a[1])?).await
}

async fn valid_in_skew(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let ahead = around_skew(w, &args(&ctx)[0])?;
    post_valid_in(w, ahead).await
}

async fn status(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let urn = |code: &str| format!("urn:oasis:names:tc:SAML:2.0:status:{code}");
    let sub = a.get(1).filter(|s| !s.is_empty());
    let spec = base(w)?.status(urn(&a[0])).sub_status(sub.map(|s| urn(s)));
    let shown = sub.map_or_else(|| a[0].clone(), |s| format!("{}/{s}", a[0]));
    post_signed(w, spec, format!("a Response with status {shown}")).await
}

async fn wrong_request(w: &mut ScimWorld, _: Context) -> StepResult {
    let spec = attacks::wrong_in_response_to(&base(w)?);
    let irt = spec.in_response_to.clone().unwrap_or_default();
    post_signed(w, spec, format!("a Response to the request {irt}, which the SP never sent")).await
}

fn posted(w: &ScimWorld) -> Result<PostedResponse, StepFailure> {
    w.sign_in.posted.clone().ok_or_else(|| failure("no Response has been posted yet in this scenario"))
}

async fn second_answer(w: &mut ScimWorld, _: Context) -> StepResult {
    let earlier = posted(w)?;
    let Some(irt) = earlier.spec.in_response_to.clone() else {
        return Err(failure(
            "the last Response answered no request: start with \"Given the SP has started a sign-in\"",
        ));
    };
    let spec = attacks::reused_in_response_to(&earlier.spec);
    post_signed(w, spec, format!("a second Response to the request {irt}, already answered")).await
}

async fn replay(w: &mut ScimWorld, _: Context) -> StepResult {
    let earlier = posted(w)?;
    // The attacker replays the Response from a browser of their own.
    w.saml()?.new_browser();
    post(w, earlier.spec, earlier.xml, format!("{} posted a second time", earlier.what)).await
}

/// The SP's answer to the last Response, with what was posted.
fn answer(w: &ScimWorld) -> Result<(&SCtx, &Response, String), StepFailure> {
    let ctx = w.saml()?;
    let r = w.sign_in.answer.as_ref().ok_or_else(|| failure("no Response has been posted yet in this scenario"))?;
    let what = w.sign_in.posted.as_ref().map_or_else(String::new, |p| p.what.clone());
    Ok((ctx, r, what))
}

async fn succeeds(w: &mut ScimWorld, _: Context) -> StepResult {
    let (ctx, r, what) = answer(w)?;
    ctx.signed_in(r, &what).await.map_err(outcome)
}

async fn refused(w: &mut ScimWorld, _: Context) -> StepResult {
    let (ctx, r, what) = answer(w)?;
    ctx.refused(r, &what).await.map_err(outcome)
}

async fn unsolicited_judged(w: &mut ScimWorld, _: Context) -> StepResult {
    let (ctx, r, what) = answer(w)?;
    if ctx.t().idp_initiated {
        ctx.signed_in(r, &format!("{what}, at an SP that accepts IdP-initiated sign-ins,")).await.map_err(outcome)
    } else {
        ctx.refused(r, &format!("{what}, at an SP that does not accept IdP-initiated sign-ins,")).await.map_err(outcome)
    }
}

async fn session_cookie(w: &mut ScimWorld, _: Context) -> StepResult {
    let (ctx, r, _) = answer(w)?;
    let name = ctx.t().success_cookie.clone().ok_or_else(|| {
        failure("the target names no success_cookie in [saml]: there is no session cookie to look for")
    })?;
    if ctx.accepted(r).await.map_err(outcome)? {
        return Ok(());
    }
    // Names only: a session cookie's value never reaches a report.
    let cookies: Vec<String> = crate::saml::run::set_cookies(r).into_iter().map(|(name, _, _)| name).collect();
    Err(failure(format!(
        "expected HTTP {} setting cookie {name} with a value; got {} setting the cookies {cookies:?}",
        ctx.target.success_status.iter().map(u16::to_string).collect::<Vec<_>>().join("/"),
        r.label()
    )))
}

/// `url` resolved against the ACS URL (so a path and an absolute URL compare alike).
fn resolved(ctx: &SCtx, url: &str) -> Option<reqwest::Url> {
    reqwest::Url::parse(&ctx.t().acs_url).and_then(|acs| acs.join(url)).ok()
}

async fn redirects_to(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let want = w.render(&args(&ctx)[0])?;
    let (sctx, r, _) = answer(w)?;
    let location = r.header("location").filter(|_| (300..400).contains(&r.status));
    match location {
        Some(l) if resolved(sctx, l).is_some() && resolved(sctx, l) == resolved(sctx, &want) => Ok(()),
        Some(l) => Err(failure(format!("expected a redirect to {want}; got one to {l} ({})", r.label()))),
        None => Err(failure(format!("expected a redirect to {want}; got {}", r.summary()))),
    }
}

async fn not_redirected_to(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let unwanted = w.render(&args(&ctx)[0])?;
    let (sctx, r, _) = answer(w)?;
    let Some(location) = r.header("location").filter(|_| (300..400).contains(&r.status)) else { return Ok(()) };
    // Resolved against the ACS, so a scheme-relative `//attacker.example/` counts too.
    let host = |u: &str| resolved(sctx, u).and_then(|u| u.host_str().map(str::to_owned));
    if host(location).is_some() && host(location) == host(&unwanted) {
        return Err(failure(format!(
            "expected no redirect to {unwanted}'s site (refused or ignored); got a redirect to {location}: {}",
            r.summary()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(duration("10", "minutes").ok(), Some(Duration::minutes(10)));
        assert_eq!(duration("1", "hour").ok(), Some(Duration::hours(1)));
        assert_eq!(duration("90", "seconds").ok(), Some(Duration::seconds(90)));
        assert!(duration("ten", "minutes").is_err());
    }

    #[test]
    fn every_wrapping_the_phrase_names_exists() {
        for n in 1..=8 {
            let name = format!("xsw{n}");
            assert!(Xsw::ALL.iter().any(|x| x.name() == name), "{name}");
        }
    }
}
