//! Validly signed Responses with wrong values — audience, recipient, destination, issuer, status, times beyond
//! the skew, InResponseTo, replay — the controls just inside the skew, and RelayState.

use chrono::Duration;

use super::AUDIENCE;
use crate::check;
use crate::check::{Check, Step, fail, skip};
use crate::saml::attacks;
use crate::saml::{ResponseSpec, SCtx};

/// How far beyond the declared skew the expired and not-yet-valid Responses are: clearly outside, whatever the
/// latency or a few seconds of clock difference.
pub const BEYOND_SKEW: Duration = Duration::seconds(60);
/// How far inside the declared skew the controls are.
pub const INSIDE_SKEW: Duration = Duration::seconds(5);

/// Where the open-redirect check asks to be sent.
const ATTACKER_URL: &str = "https://attacker.example/";

const RECIPIENT: &str = "Verify that the Recipient attribute in any bearer <SubjectConfirmationData> matches the assertion consumer service URL to which the <Response> or artifact was delivered";
const NOT_ON_OR_AFTER: &str = "Verify that the NotOnOrAfter attribute in any bearer <SubjectConfirmationData> has not passed, subject to allowable clock skew between the providers";
const IN_RESPONSE_TO: &str = "Verify that the InResponseTo attribute in the bearer <SubjectConfirmationData> equals the ID of its original <AuthnRequest> message, unless the response is unsolicited (see Section 4.1.5 ), in which case the attribute MUST NOT be present";

pub fn checks() -> Vec<Check<SCtx>> {
    vec![
        check! {
            id: "saml.conditions.wrong-audience",
            title: "An assertion for another SP's audience is refused",
            spec: ("SAML Core", "2.5.1.4", "The audience restriction condition evaluates to Valid if and only if the SAML relying party is a member of one or more of the audiences specified."),
            level: Must,
            tags: ["conditions", "negative"],
            run: wrong_audience,
        },
        check! {
            id: "saml.conditions.missing-audience",
            title: "An assertion without AudienceRestriction is refused",
            spec: ("SAML Profiles", "4.1.4.2", AUDIENCE),
            level: Must,
            tags: ["conditions", "negative"],
            run: missing_audience,
        },
        check! {
            id: "saml.conditions.expired",
            title: "An assertion expired beyond the clock skew is refused",
            spec: ("SAML Profiles", "4.1.4.3", NOT_ON_OR_AFTER),
            level: Must,
            tags: ["conditions", "time", "negative"],
            run: expired,
        },
        check! {
            id: "saml.conditions.not-yet-valid",
            title: "An assertion valid only from beyond the clock skew is refused",
            spec: ("SAML Core", "2.5.1.2", "Specifies the earliest time instant at which the assertion is valid."),
            level: Must,
            tags: ["conditions", "time", "negative"],
            run: not_yet_valid,
        },
        check! {
            id: "saml.conditions.issued-in-the-future",
            title: "A Response and Assertion issued beyond the clock skew ahead (otherwise valid) are refused",
            spec: ("SAML Profiles", "4.1.4.3", "Verify that any assertions relied upon are valid in other respects"),
            level: Should,
            tags: ["conditions", "time", "negative"],
            run: issued_in_the_future,
        },
        check! {
            id: "saml.conditions.expired-inside-skew",
            title: "Control: an assertion expired a little less than the clock skew ago still signs in",
            spec: ("SAML Profiles", "4.1.4.3", NOT_ON_OR_AFTER),
            level: Should,
            tags: ["conditions", "time", "control"],
            run: expired_inside_skew,
        },
        check! {
            id: "saml.conditions.not-before-inside-skew",
            title: "Control: an assertion valid from a little less than the clock skew ahead still signs in",
            spec: ("SAML Core", "2.5.1.2", "Specifies the earliest time instant at which the assertion is valid."),
            level: Should,
            tags: ["conditions", "time", "control"],
            run: not_before_inside_skew,
        },
        check! {
            id: "saml.subject.wrong-recipient",
            title: "A bearer confirmation for another ACS (Recipient) is refused",
            spec: ("SAML Profiles", "4.1.4.3", RECIPIENT),
            level: Must,
            tags: ["subject", "negative"],
            run: wrong_recipient,
        },
        check! {
            id: "saml.response.wrong-destination",
            title: "A signed Response whose Destination is another ACS is refused",
            spec: ("SAML Bindings", "3.5.5.2", "If the message is signed, the Destination XML attribute in the root SAML element of the protocol message MUST contain the URL to which the sender has instructed the user agent to deliver the message. The recipient MUST then verify that the value matches the location at which the message has been received."),
            level: Must,
            tags: ["response", "negative"],
            run: wrong_destination,
        },
        check! {
            id: "saml.response.wrong-issuer",
            title: "A Response and assertion naming another IdP as Issuer are refused, even signed by the trusted key",
            spec: ("SAML Profiles", "4.1.4.2", "The <Issuer> element MAY be omitted, but if present it MUST contain the unique identifier of the issuing identity provider; the Format attribute MUST be omitted or have a value of urn:oasis:names:tc:SAML:2.0:nameid-format:entity."),
            level: Must,
            tags: ["response", "negative"],
            run: wrong_issuer,
        },
        check! {
            id: "saml.response.non-success-status",
            title: "A Response with status Responder/AuthnFailed does not sign in, whatever assertion it holds",
            spec: ("SAML Core", "3.2.2.2", "urn:oasis:names:tc:SAML:2.0:status:Responder The request could not be performed due to an error on the part of the SAML responder or SAML authority."),
            level: Must,
            tags: ["response", "negative"],
            run: non_success_status,
        },
        check! {
            id: "saml.request.wrong-in-response-to",
            title: "A Response to a request the SP never sent is refused",
            spec: ("SAML Profiles", "4.1.4.3", IN_RESPONSE_TO),
            level: Must,
            tags: ["request", "negative"],
            run: wrong_in_response_to,
        },
        check! {
            id: "saml.request.reused-in-response-to",
            title: "A second Response to an already answered request is refused",
            spec: ("SAML Profiles", "4.1.4.3", IN_RESPONSE_TO),
            level: Must,
            tags: ["request", "negative"],
            run: reused_in_response_to,
        },
        check! {
            id: "saml.request.unsolicited-refused",
            title: "An SP that does not take IdP-initiated sign-ins refuses an unsolicited Response",
            spec: ("SAML Profiles", "4.1.4.3", IN_RESPONSE_TO),
            level: Should,
            tags: ["request", "negative"],
            run: unsolicited_refused,
        },
        check! {
            id: "saml.replay.same-response",
            title: "The same valid Response posted twice signs in once",
            spec: ("SAML Profiles", "4.1.4.5", "The service provider MUST ensure that bearer assertions are not replayed, by maintaining the set of used ID values for the length of time for which the assertion would be considered valid based on the NotOnOrAfter attribute in the <SubjectConfirmationData>."),
            level: Must,
            tags: ["replay", "negative"],
            run: replay,
        },
        check! {
            id: "saml.relay.open-redirect",
            title: "RelayState naming another site does not redirect there",
            spec: ("CWE-601", "description", "A web application accepts a user-controlled input that specifies a link to an external site, and uses that link in a Redirect."),
            level: Should,
            tags: ["relay", "negative"],
            run: open_redirect,
        },
    ]
}

/// Posts `spec` signed and expects a refusal.
async fn refuse(ctx: &SCtx, spec: &ResponseSpec, what: &str) -> Step {
    let xml = ctx.sign(spec)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, what).await
}

/// Posts `spec` signed and expects a sign-in.
async fn accept(ctx: &SCtx, spec: &ResponseSpec, what: &str) -> Step {
    let xml = ctx.sign(spec)?;
    let r = ctx.post(&xml).await?;
    ctx.signed_in(&r, what).await
}

async fn wrong_audience(ctx: &SCtx) -> Step {
    let spec = attacks::wrong_audience(&ctx.fresh().await?);
    refuse(ctx, &spec, &format!("an assertion for the audience {}", attacks::OTHER_ENTITY)).await
}

async fn missing_audience(ctx: &SCtx) -> Step {
    let spec = attacks::missing_audience(&ctx.fresh().await?);
    refuse(ctx, &spec, "an assertion without AudienceRestriction").await
}

/// The declared skew (a skew too large for chrono is as good as a day).
fn skew(ctx: &SCtx) -> Duration {
    Duration::from_std(ctx.t().skew).unwrap_or(Duration::days(1))
}

async fn expired(ctx: &SCtx) -> Step {
    let spec = attacks::expired(&ctx.fresh().await?, skew(ctx) + BEYOND_SKEW);
    let what = format!("an assertion expired {} s ago (declared skew {} s)", spec_age(&spec), skew(ctx).num_seconds());
    refuse(ctx, &spec, &what).await
}

async fn not_yet_valid(ctx: &SCtx) -> Step {
    let spec = attacks::not_yet_valid(&ctx.fresh().await?, skew(ctx) + BEYOND_SKEW);
    let ahead = (spec.effective_not_before() - spec.now).num_seconds();
    let what = format!("an assertion valid from {ahead} s ahead (declared skew {} s)", skew(ctx).num_seconds());
    refuse(ctx, &spec, &what).await
}

/// Issued an hour beyond the skew ahead (both IssueInstants); NotBefore and the expiries stay valid, so only the
/// issue time is wrong.
async fn issued_in_the_future(ctx: &SCtx) -> Step {
    let ahead = skew(ctx) + Duration::hours(1);
    let spec = ctx.fresh().await?;
    let at = spec.now + ahead;
    let spec = spec.issue_instant(at);
    let what =
        format!("a Response issued {} s ahead (declared skew {} s)", ahead.num_seconds(), skew(ctx).num_seconds());
    refuse(ctx, &spec, &what).await
}

/// How long ago the Response's NotOnOrAfter was, in seconds.
fn spec_age(spec: &ResponseSpec) -> i64 {
    (spec.now - spec.effective_not_on_or_after()).num_seconds()
}

fn inside_skew(ctx: &SCtx) -> Step<Duration> {
    let s = skew(ctx);
    if s <= INSIDE_SKEW * 2 {
        return Err(skip(format!("the declared skew ({} s) leaves no room inside it", s.num_seconds())));
    }
    Ok(s - INSIDE_SKEW)
}

async fn expired_inside_skew(ctx: &SCtx) -> Step {
    let within = inside_skew(ctx)?;
    let spec = attacks::last_valid_second(&ctx.fresh().await?, within);
    let what = format!("an assertion expired {} s ago (declared skew {} s)", spec_age(&spec), skew(ctx).num_seconds());
    accept(ctx, &spec, &what).await
}

async fn not_before_inside_skew(ctx: &SCtx) -> Step {
    let within = inside_skew(ctx)?;
    let spec = attacks::at_not_before_boundary(&ctx.fresh().await?, within);
    let ahead = (spec.effective_not_before() - spec.now).num_seconds();
    let what = format!("an assertion valid from {ahead} s ahead (declared skew {} s)", skew(ctx).num_seconds());
    accept(ctx, &spec, &what).await
}

async fn wrong_recipient(ctx: &SCtx) -> Step {
    let spec = attacks::wrong_recipient(&ctx.fresh().await?);
    refuse(ctx, &spec, &format!("a bearer confirmation with Recipient {}", attacks::OTHER_URL)).await
}

async fn wrong_destination(ctx: &SCtx) -> Step {
    let spec = attacks::wrong_destination(&ctx.fresh().await?);
    refuse(ctx, &spec, &format!("a Response with Destination {}", attacks::OTHER_URL)).await
}

async fn wrong_issuer(ctx: &SCtx) -> Step {
    let spec = attacks::wrong_issuer(&ctx.fresh().await?);
    refuse(ctx, &spec, &format!("a Response from Issuer {}", attacks::OTHER_ENTITY)).await
}

async fn non_success_status(ctx: &SCtx) -> Step {
    let spec = attacks::non_success_status(&ctx.fresh().await?);
    refuse(ctx, &spec, "a Response with status Responder/AuthnFailed").await
}

async fn wrong_in_response_to(ctx: &SCtx) -> Step {
    // With a login_url the SP has a request pending; the Response names another.
    let spec = attacks::wrong_in_response_to(&ctx.fresh().await?);
    let irt = spec.in_response_to.clone().unwrap_or_default();
    refuse(ctx, &spec, &format!("a Response to the request {irt}, which the SP never sent")).await
}

async fn reused_in_response_to(ctx: &SCtx) -> Step {
    let id = ctx.solicited().await?;
    let spec = ctx.spec(Some(id));
    ctx.sign_in(&spec).await?;
    // From a browser without the session the first answer opened, so only the answer itself can sign in.
    ctx.new_browser();
    let again = attacks::reused_in_response_to(&spec);
    refuse(ctx, &again, "a fresh Response to the request the SP just accepted an answer to").await
}

/// A valid Response answering no request, at an SP whose target says it takes none (`idp_initiated = false`, the
/// default with a `login_url`): accepting it anyway lets anyone holding a Response log a browser in unasked
/// (login CSRF).
async fn unsolicited_refused(ctx: &SCtx) -> Step {
    if ctx.t().idp_initiated {
        return Err(skip("the target accepts IdP-initiated sign-ins (idp_initiated in [saml])"));
    }
    refuse(ctx, &ctx.spec(None), "an unsolicited Response (no InResponseTo)").await
}

async fn replay(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?;
    let (xml, _) = ctx.sign_in(&spec).await?;
    // The attacker replays the Response from a browser of their own.
    ctx.new_browser();
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, "the same Response posted a second time from another browser").await
}

async fn open_redirect(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?;
    let xml = ctx.sign(&spec)?;
    let r = ctx.post_with(&xml, ATTACKER_URL).await?;
    let location = r.header("location").unwrap_or_default();
    // Resolved against the ACS, so a scheme-relative `//attacker.example/` counts too.
    let host = reqwest::Url::parse(&ctx.t().acs_url)
        .and_then(|acs| acs.join(location))
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    if (300..400).contains(&r.status) && host.as_deref() == Some("attacker.example") {
        return Err(fail(
            format!("RelayState {ATTACKER_URL} is refused or ignored: no redirect to another site"),
            format!("a redirect to {location}: {}", r.summary()),
        ));
    }
    Ok(())
}
