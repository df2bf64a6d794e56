//! Authorization server metadata (RFC 8414) and protected resource metadata (RFC 9728).

use serde_json::Value;

use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::oauth::OCtx;

pub fn checks() -> Vec<Check<OCtx>> {
    vec![
        check! {
            id: "oauth.metadata.issuer",
            title: "The metadata's issuer is the issuer its URL was built from",
            spec: ("RFC 8414", "3.3", "The \"issuer\" value returned MUST be identical to the authorization server's issuer identifier value into which the well-known URI string was inserted to create the URL used to retrieve the metadata."),
            level: Must,
            tags: ["metadata"],
            run: issuer,
        },
        check! {
            id: "oauth.metadata.required",
            title: "The metadata is JSON with the members a code-flow client needs",
            spec: ("RFC 8414", "2", "issuer REQUIRED … authorization_endpoint … This is REQUIRED unless no grant types are supported that use the authorization endpoint. token_endpoint … This is REQUIRED unless only the implicit grant type is supported. response_types_supported REQUIRED."),
            level: Must,
            tags: ["metadata"],
            run: required,
        },
        check! {
            id: "oauth.metadata.pkce",
            title: "The metadata advertises S256 in code_challenge_methods_supported",
            spec: ("RFC 9700", "2.1.1", "Authorization servers SHOULD publish the PKCE challenge methods they support in their authorization server metadata (code_challenge_methods_supported)."),
            level: Should,
            tags: ["metadata", "pkce"],
            run: pkce,
        },
        check! {
            id: "oauth.metadata.no-password-grant",
            title: "The metadata does not offer the resource owner password grant",
            spec: ("RFC 9700", "2.4", "The resource owner password credentials grant [RFC6749] MUST NOT be used."),
            level: Must,
            tags: ["metadata"],
            run: no_password_grant,
        },
        check! {
            id: "oauth.metadata.resource",
            title: "Protected resource metadata names the resource and its authorization server",
            spec: ("RFC 9728", "3.3", "The \"resource\" value returned MUST be identical to the protected resource's resource identifier value into which the well-known URI path suffix was inserted to create the URL used to retrieve the metadata."),
            level: Must,
            tags: ["metadata", "rfc9728"],
            run: resource,
        },
    ]
}

fn doc(ctx: &OCtx) -> Step<&Value> {
    let m = &ctx.c.meta;
    match (&m.response, &m.doc) {
        (Some(_), Value::Object(_)) => Ok(&m.doc),
        (Some(r), _) => {
            Err(fail("authorization server metadata: HTTP 200 with a JSON object (RFC 8414 §3.2)", r.summary()))
        }
        (None, _) => Err(fail("authorization server metadata", "no response")),
    }
}

async fn issuer(ctx: &OCtx) -> Step {
    let d = doc(ctx)?;
    let got = d.get("issuer").and_then(Value::as_str);
    ensure(got == Some(ctx.t().issuer.as_str()), format!("issuer {:?}", ctx.t().issuer), || format!("issuer {got:?}"))
}

async fn required(ctx: &OCtx) -> Step {
    let d = doc(ctx)?;
    if let Some(r) = &ctx.c.meta.response {
        let ct = r.header("content-type").unwrap_or_default();
        ensure(
            ct.to_ascii_lowercase().starts_with("application/json"),
            "Content-Type application/json (RFC 8414 §3.2)",
            || format!("Content-Type {ct:?}"),
        )?;
    }
    let missing: Vec<&str> = ["issuer", "authorization_endpoint", "token_endpoint"]
        .into_iter()
        .filter(|k| d.get(*k).and_then(Value::as_str).is_none_or(str::is_empty))
        .collect();
    ensure(missing.is_empty(), "issuer, authorization_endpoint and token_endpoint", || format!("missing {missing:?}"))?;
    let code = ctx.c.meta.lists("response_types_supported", "code");
    ensure(code == Some(true), "response_types_supported listing \"code\"", || match code {
        None => "no response_types_supported array".into(),
        Some(_) => format!("{}", d["response_types_supported"]),
    })
}

async fn pkce(ctx: &OCtx) -> Step {
    doc(ctx)?;
    let s256 = ctx.c.meta.lists("code_challenge_methods_supported", "S256");
    ensure(s256 == Some(true), "code_challenge_methods_supported listing \"S256\"", || match s256 {
        None => "no code_challenge_methods_supported (clients cannot tell whether PKCE is supported)".into(),
        Some(_) => format!("{}", ctx.c.meta.doc["code_challenge_methods_supported"]),
    })
}

async fn no_password_grant(ctx: &OCtx) -> Step {
    doc(ctx)?;
    let offered = ctx.c.meta.lists("grant_types_supported", "password");
    ensure(offered != Some(true), "grant_types_supported without \"password\"", || {
        format!("grant_types_supported {}", ctx.c.meta.doc["grant_types_supported"])
    })
}

/// RFC 9728 §3.1: the well-known suffix goes between the host and the path of the resource identifier.
fn resource_metadata_url(resource: &str) -> String {
    let (scheme, rest) = resource.split_once("://").unwrap_or(("https", resource));
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let path = if path.is_empty() { String::new() } else { format!("/{path}") };
    format!("{scheme}://{host}/.well-known/oauth-protected-resource{path}")
}

async fn resource(ctx: &OCtx) -> Step {
    let Some(resource) = ctx.t().resource.clone() else {
        return Err(skip("the target declares no protected resource (resource in the target file)"));
    };
    let r = ctx.get(&resource_metadata_url(&resource)).await?;
    let Some(d) = r.json().filter(|_| r.status == 200) else {
        return Err(fail("protected resource metadata: HTTP 200 with a JSON object (RFC 9728 §3.2)", r.summary()));
    };
    let got = d.get("resource").and_then(Value::as_str);
    ensure(got == Some(resource.as_str()), format!("resource {resource:?}"), || format!("resource {got:?}"))?;
    if let Some(servers) = d.get("authorization_servers").and_then(Value::as_array) {
        let issuer = &ctx.t().issuer;
        ensure(
            servers.iter().any(|s| s.as_str() == Some(issuer)),
            format!("authorization_servers listing {issuer:?} (RFC 9728 §2)"),
            || format!("authorization_servers {}", d["authorization_servers"]),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn well_known_suffix_goes_before_the_path() {
        assert_eq!(
            super::resource_metadata_url("https://h/v2/mcp"),
            "https://h/.well-known/oauth-protected-resource/v2/mcp"
        );
        assert_eq!(super::resource_metadata_url("https://h"), "https://h/.well-known/oauth-protected-resource");
    }
}
