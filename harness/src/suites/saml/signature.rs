//! The baseline sign-in and the forgeries of the signature and the document: signature exclusion, foreign
//! signers, tampering, XML Signature Wrapping (XSW1–XSW8), duplicate assertions, comment injection in the NameID,
//! DOCTYPEs, and oversized messages.

use super::{ATTACKER_NAME_ID, VERIFY_SIGNATURES};
use crate::check;
use crate::check::{Check, Step, fail};
use crate::saml::attacks::{self, Dtd, Xsw};
use crate::saml::run::idp_error;
use crate::saml::{SCtx, SigningMode};

/// The size of the oversized Response: four times the 256 KiB SPs commonly allow.
const OVERSIZED_BYTES: usize = 1024 * 1024;

const POST_SIGNED: &str =
    "If the HTTP POST binding is used to deliver the <Response>, the enclosed assertion(s) MUST be signed.";
const ONE_REFERENCE: &str = "Signatures MUST contain a single <ds:Reference> containing a same-document reference to the ID attribute value of the root element of the assertion or protocol message being signed.";

pub fn checks() -> Vec<Check<SCtx>> {
    vec![
        check! {
            id: "saml.acs.valid",
            title: "A valid, signed Response for a known user signs the user in",
            spec: ("SAML Profiles", "4.1.4.2", "The assertion(s) containing a bearer subject confirmation MUST contain an <AudienceRestriction> including the service provider's unique identifier as an <Audience>."),
            level: Must,
            tags: ["acs"],
            run: valid,
        },
        check! {
            id: "saml.signature.unsigned",
            title: "A Response with every signature removed is refused",
            spec: ("SAML Profiles", "4.1.4.5", POST_SIGNED),
            level: Must,
            tags: ["signature", "negative"],
            run: unsigned,
        },
        check! {
            id: "saml.signature.foreign-key",
            title: "A Response signed by another key, KeyInfo still naming the IdP's certificate, is refused",
            spec: ("SAML Profiles", "4.1.4.3", VERIFY_SIGNATURES),
            level: Must,
            tags: ["signature", "negative"],
            run: foreign_key,
        },
        check! {
            id: "saml.signature.attacker-certificate",
            title: "A Response signed by an attacker carrying their own certificate in KeyInfo is refused (CVE-2021-21239)",
            spec: ("SAML Profiles", "4.1.4.3", VERIFY_SIGNATURES),
            level: Must,
            tags: ["signature", "negative"],
            run: attacker_certificate,
        },
        check! {
            id: "saml.signature.tampered",
            title: "A Response whose NameID was changed after signing is refused",
            spec: ("SAML Profiles", "4.1.4.3", VERIFY_SIGNATURES),
            level: Must,
            tags: ["signature", "negative"],
            run: tampered,
        },
        check! {
            id: "saml.xsw.xsw1",
            title: "XSW1: a forged Response with the signed original inside its signature is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw1,
        },
        check! {
            id: "saml.xsw.xsw2",
            title: "XSW2: a forged Response with the signed original as a detached sibling is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw2,
        },
        check! {
            id: "saml.xsw.xsw3",
            title: "XSW3: a forged Assertion before the signed one is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw3,
        },
        check! {
            id: "saml.xsw.xsw4",
            title: "XSW4: a forged Assertion wrapping the signed one is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw4,
        },
        check! {
            id: "saml.xsw.xsw5",
            title: "XSW5: the signed Assertion made the attacker's, an unsigned copy of the original appended, is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw5,
        },
        check! {
            id: "saml.xsw.xsw6",
            title: "XSW6: the signed Assertion made the attacker's, the original inside its signature, is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw6,
        },
        check! {
            id: "saml.xsw.xsw7",
            title: "XSW7: a forged Assertion inside samlp:Extensions is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw7,
        },
        check! {
            id: "saml.xsw.xsw8",
            title: "XSW8: the signed Assertion made the attacker's, the original in a ds:Object of its signature, is refused",
            spec: ("SAML Core", "5.4.2", ONE_REFERENCE),
            level: Must,
            tags: ["signature", "xsw", "negative"],
            run: xsw8,
        },
        check! {
            id: "saml.signature.duplicate-assertion",
            title: "An unsigned second Assertion beside the signed one is refused (CVE-2022-41912)",
            spec: ("SAML Profiles", "4.1.4.5", POST_SIGNED),
            level: Must,
            tags: ["signature", "negative"],
            run: duplicate_assertion,
        },
        check! {
            id: "saml.signature.comment-in-name-id",
            title: "A comment inside the signed NameID does not cut it short (CVE-2017-11427 family)",
            spec: ("SAML Profiles", "4.1.4.3", VERIFY_SIGNATURES),
            level: Must,
            tags: ["signature", "negative"],
            run: comment_in_name_id,
        },
        check! {
            id: "saml.signature.cdata-in-name-id",
            title: "A CDATA section inside the signed NameID does not cut it short (CVE-2017-11427 family)",
            spec: ("SAML Profiles", "4.1.4.3", VERIFY_SIGNATURES),
            level: Must,
            tags: ["signature", "negative"],
            run: cdata_in_name_id,
        },
        check! {
            id: "saml.xml.second-root",
            title: "A signed Assertion followed by a second, forged root element is refused (CVE-2022-39299)",
            spec: ("XML 1.0", "2.1", "There is exactly one element, called the root, or document element, no part of which appears in the content of any other element."),
            level: Must,
            tags: ["xml", "signature", "negative"],
            run: second_root,
        },
        check! {
            id: "saml.xml.foreign-namespace-assertion",
            title: "An Assertion-named element of another namespace before the signed Assertion is not read",
            spec: ("Namespaces in XML 1.0", "2.1", "An expanded name is a pair consisting of a namespace name and a local name."),
            level: Must,
            tags: ["xml", "signature", "negative"],
            run: foreign_namespace_assertion,
        },
        check! {
            id: "saml.xml.internal-entity",
            title: "A Response with a DOCTYPE and an internal entity is refused",
            spec: ("CWE-776", "description", "The product uses XML documents and allows their structure to be defined with a Document Type Definition (DTD), but it does not properly control the number of recursive definitions of entities."),
            level: Should,
            tags: ["xml", "negative"],
            run: internal_entity,
        },
        check! {
            id: "saml.xml.external-entity",
            title: "A Response with an external entity (XXE) is refused",
            spec: ("CWE-611", "description", "The product processes an XML document that can contain XML entities with URIs that resolve to documents outside of the intended sphere of control, causing the product to embed incorrect documents into its output."),
            level: Should,
            tags: ["xml", "negative"],
            run: external_entity,
        },
        check! {
            id: "saml.xml.entity-expansion",
            title: "A Response with nested entities (billion laughs) is refused",
            spec: ("CWE-776", "description", "The product uses XML documents and allows their structure to be defined with a Document Type Definition (DTD), but it does not properly control the number of recursive definitions of entities."),
            level: Should,
            tags: ["xml", "negative"],
            run: entity_expansion,
        },
        check! {
            id: "saml.xml.oversized",
            title: "A validly signed Response padded to 1 MiB is refused",
            spec: ("CWE-400", "description", "The product does not properly control the allocation and maintenance of a limited resource, thereby enabling an actor to influence the amount of resources consumed, eventually leading to the exhaustion of available resources."),
            level: Should,
            tags: ["xml", "negative"],
            run: oversized,
        },
    ]
}

async fn valid(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?;
    let xml = ctx.sign(&spec)?;
    let r = ctx.post(&xml).await?;
    ctx.signed_in(&r, "a valid Response").await
}

async fn unsigned(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?;
    let xml = attacks::unsigned(&ctx.sign(&spec)?).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, "a Response without any signature").await
}

async fn foreign_key(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?;
    let xml = attacks::signed_by_foreign_key(&ctx.sign(&spec)?, &ctx.t().key, &ctx.foreign).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, "a Response signed by another key (KeyInfo: the IdP's certificate)").await
}

async fn attacker_certificate(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?;
    let xml = attacks::attacker_certificate(&ctx.sign(&spec)?, &ctx.foreign).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, "a Response signed by an attacker's key with its certificate in KeyInfo").await
}

async fn tampered(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?.name_id(ATTACKER_NAME_ID).email(ATTACKER_NAME_ID);
    let xml = attacks::tampered_name_id(&ctx.sign(&spec)?, &ctx.t().name_id).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, "a Response whose NameID was changed after signing").await
}

/// The attacker's signed Response (the Response signed for XSW1–2, the Assertion for the others), wrapped.
async fn wrapped(ctx: &SCtx, variant: Xsw) -> Step {
    let signing = if variant.wraps_response() { SigningMode::ResponseSigned } else { SigningMode::AssertionSigned };
    let spec = ctx.fresh().await?.name_id(ATTACKER_NAME_ID).email(ATTACKER_NAME_ID).signing(signing);
    let xml = attacks::xsw(&ctx.sign(&spec)?, variant, &ctx.t().name_id).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, &format!("a {} signature wrapping claiming {}", variant.name().to_uppercase(), ctx.t().name_id))
        .await
}

async fn xsw1(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw1).await
}

async fn xsw2(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw2).await
}

async fn xsw3(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw3).await
}

async fn xsw4(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw4).await
}

async fn xsw5(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw5).await
}

async fn xsw6(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw6).await
}

async fn xsw7(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw7).await
}

async fn xsw8(ctx: &SCtx) -> Step {
    wrapped(ctx, Xsw::Xsw8).await
}

async fn duplicate_assertion(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?.name_id(ATTACKER_NAME_ID).email(ATTACKER_NAME_ID);
    let xml = attacks::duplicate_assertion(&ctx.sign(&spec)?, &ctx.t().name_id).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, "an unsigned second Assertion claiming the user").await
}

/// The attacker's account is the user's NameID with a suffix; `split` puts a node boundary (a comment, a CDATA
/// section) after the user's part, so an SP that reads only the first text node signs in the user. The suite
/// cannot see whose session an SP opened, so only a refusal passes: an SP that signs in unknown NameIDs
/// (just-in-time provisioning) declares a deviation.
async fn split_name_id(
    ctx: &SCtx,
    how: &str,
    split: fn(&str, &str) -> Result<String, crate::saml::SamlIdpError>,
) -> Step {
    let victim = ctx.t().name_id.clone();
    let account = format!("{victim}.attacker.example");
    let spec = ctx.fresh().await?.name_id(account.clone()).email(account.clone());
    let xml = split(&ctx.sign(&spec)?, &victim).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    if !ctx.accepted(&r).await? {
        return Ok(());
    }
    Err(fail(
        format!(
            "the NameID {account:?} ({how} after {victim:?}) is read in full: no such user, no sign-in (an SP \
             that provisions unknown users declares a deviation)"
        ),
        format!("signed in ({}): {}", ctx.success_rule(), r.summary()),
    ))
}

async fn comment_in_name_id(ctx: &SCtx) -> Step {
    split_name_id(ctx, "a comment", attacks::comment_in_name_id).await
}

async fn cdata_in_name_id(ctx: &SCtx) -> Step {
    split_name_id(ctx, "a CDATA section", attacks::cdata_in_name_id).await
}

async fn second_root(ctx: &SCtx) -> Step {
    let spec =
        ctx.fresh().await?.name_id(ATTACKER_NAME_ID).email(ATTACKER_NAME_ID).signing(SigningMode::AssertionSigned);
    let xml = attacks::second_root(&ctx.sign(&spec)?, &ctx.t().name_id).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, &format!("the attacker's signed Assertion, then a second root claiming {}", ctx.t().name_id)).await
}

async fn foreign_namespace_assertion(ctx: &SCtx) -> Step {
    let spec =
        ctx.fresh().await?.name_id(ATTACKER_NAME_ID).email(ATTACKER_NAME_ID).signing(SigningMode::AssertionSigned);
    let xml = attacks::foreign_namespace_assertion(&ctx.sign(&spec)?, &ctx.t().name_id).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, &format!("a decoy Assertion in namespace {} claiming {}", attacks::DECOY_NS, ctx.t().name_id)).await
}

async fn with_dtd(ctx: &SCtx, dtd: Dtd, what: &str) -> Step {
    let spec = ctx.fresh().await?;
    let xml = attacks::doctype(&ctx.sign(&spec)?, &dtd).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, what).await
}

async fn internal_entity(ctx: &SCtx) -> Step {
    with_dtd(ctx, Dtd::InternalEntity, "a Response with a DOCTYPE whose entity is the NameID").await
}

async fn external_entity(ctx: &SCtx) -> Step {
    let dtd = Dtd::ExternalEntity { system: "file:///etc/hostname".into() };
    with_dtd(ctx, dtd, "a Response with an external entity (file:///etc/hostname)").await
}

async fn entity_expansion(ctx: &SCtx) -> Step {
    // Ten thousand copies: enough to show the SP expands entities, too few to harm one that does.
    with_dtd(ctx, Dtd::BillionLaughs { depth: 4 }, "a Response with nested entities").await
}

async fn oversized(ctx: &SCtx) -> Step {
    let spec = ctx.fresh().await?;
    let xml = attacks::oversized(&ctx.sign(&spec)?, OVERSIZED_BYTES).map_err(idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, "a 1 MiB Response").await
}
