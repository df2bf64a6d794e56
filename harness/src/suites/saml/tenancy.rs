//! Another tenant's connection: an SP that serves many workspaces (organisations, realms) trusts one IdP per
//! workspace, and whoever runs a workspace configures its IdP. An attacker with a workspace of their own therefore
//! holds a key the SP trusts — for that workspace only. These checks sign with it and claim the target's
//! workspace; they need `[saml.other_workspace]` in the target file and are skipped without it.

use super::{AUDIENCE, VERIFY_SIGNATURES};
use crate::check;
use crate::check::{Check, Step, skip};
use crate::saml::target::OtherWorkspace;
use crate::saml::{ResponseSpec, SCtx};

pub fn checks() -> Vec<Check<SCtx>> {
    vec![
        check! {
            id: "saml.tenancy.other-workspace-signer",
            title: "A Response signed by another workspace's IdP key, claiming this workspace's user, is refused",
            spec: ("SAML Profiles", "4.1.4.3", VERIFY_SIGNATURES),
            level: Must,
            tags: ["tenancy", "signature", "negative"],
            run: other_workspace_signer,
        },
        check! {
            id: "saml.tenancy.other-workspace-response",
            title: "A Response valid for another workspace (its IdP, its Audience) answering this workspace's request is refused",
            spec: ("SAML Profiles", "4.1.4.2", AUDIENCE),
            level: Must,
            tags: ["tenancy", "conditions", "negative"],
            run: other_workspace_response,
        },
    ]
}

fn other(ctx: &SCtx) -> Step<&OtherWorkspace> {
    ctx.t().other_workspace.as_ref().ok_or_else(|| skip("needs [saml.other_workspace] in the target file"))
}

/// Signs `spec` with the other workspace's key and expects a refusal.
async fn refuse(ctx: &SCtx, other: &OtherWorkspace, spec: &ResponseSpec, what: &str) -> Step {
    let xml = spec.sign(&other.key).map_err(crate::saml::run::idp_error)?;
    let r = ctx.post(&xml).await?;
    ctx.refused(&r, what).await
}

/// Everything about the Response is this workspace's — Audience, Recipient, Destination, the request it answers,
/// the user — except the signer: the other workspace's IdP, under the Issuer that workspace's connection names
/// (which may be a copy of this workspace's). An SP that looks the key up by Issuer across all workspaces, or
/// tries every certificate it holds, signs the user in.
async fn other_workspace_signer(ctx: &SCtx) -> Step {
    let other = other(ctx)?;
    let spec = ctx.fresh().await?.issuer(other.idp_entity_id.clone());
    let what = format!("a Response from Issuer {} signed by another workspace's IdP key", other.idp_entity_id);
    refuse(ctx, other, &spec, &what).await
}

/// The Response is the other workspace's in every respect (its IdP's signature, Issuer and Audience) but answers
/// a request this workspace's sign-in sent and names this workspace's user. An SP that picks the workspace by the
/// Issuer, or accepts any of its own Audiences for any request, lets one workspace's IdP answer for another.
async fn other_workspace_response(ctx: &SCtx) -> Step {
    let other = other(ctx)?;
    let spec = ctx.fresh().await?.issuer(other.idp_entity_id.clone()).audience(Some(other.sp_entity_id.clone()));
    let what = format!(
        "a Response for the other workspace's Audience {} answering this workspace's request",
        other.sp_entity_id
    );
    refuse(ctx, other, &spec, &what).await
}
