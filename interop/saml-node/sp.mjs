// A SAML 2.0 service provider built on node-saml (the library under passport-saml and many node apps), as a
// module (`makeSaml`) and as a tiny HTTP server (`node sp.mjs`) for `idconform check saml --target target.toml`:
//
//   GET  /login?RelayState=…  302 to the IdP with an AuthnRequest (HTTP-Redirect binding, SAML Bindings §3.4.4.1)
//   POST /acs                 the assertion consumer service (HTTP-POST binding, §3.5.4): node-saml's
//                             validatePostResponseAsync; accepted: 302 to the RelayState (a local path only) and
//                             the cookie `sp_session`; refused: 403 with node-saml's reason (413 beyond 100 kB)
//   GET  /me                  the profile of the session (JSON), 401 without one
//   GET  /metadata            the SP's metadata
//
// Every ACS decision is one JSON line on stdout, so a run shows why node-saml refused each Response.
// Environment of `node sp.mjs`: SP_PORT (18620), IDP_SSO_URL, IDP_CERT_FILE, SP_SIGNED (assertion | response |
// both | either), SP_UNSOLICITED=1 to accept IdP-initiated Responses (InResponseTo checked only when present),
// SP_USERS: the accounts the app knows (comma-separated emails; a valid Response for anyone else is refused, as an
// app without that account would), everyone when unset.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

import { SAML, ValidateInResponseTo } from "@node-saml/node-saml";

const EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/** The clock skew node-saml allows; the target file's `skew_seconds` says the same. */
export const SKEW_MS = 120_000;

/**
 * A node-saml SP at `base` (entity ID `<base>/metadata`, ACS `<base>/acs`) trusting the IdP whose SSO URL and
 * certificate (PEM) are given. `signed` says which signatures it demands: `assertion` (Okta's and Entra's
 * default), `response`, `both`, or `either` (node-saml's laxest: a valid Response signature, or else a signed
 * assertion). `unsolicited` accepts Responses that answer no AuthnRequest (IdP-initiated).
 */
export function makeSaml({ base, ssoUrl, idpCert, signed = "assertion", unsolicited = false }) {
  const want = {
    assertion: { wantAssertionsSigned: true, wantAuthnResponseSigned: false },
    response: { wantAssertionsSigned: false, wantAuthnResponseSigned: true },
    both: { wantAssertionsSigned: true, wantAuthnResponseSigned: true },
    either: { wantAssertionsSigned: false, wantAuthnResponseSigned: false },
  }[signed];
  if (!want) throw new Error(`unknown signing requirement ${signed}`);
  return new SAML({
    callbackUrl: `${base}/acs`,
    entryPoint: ssoUrl,
    issuer: `${base}/metadata`,
    audience: `${base}/metadata`,
    idpCert,
    identifierFormat: EMAIL,
    acceptedClockSkewMs: SKEW_MS,
    // Every Response must answer an AuthnRequest this SP sent (SAML Profiles §4.1.4.3), unless IdP-initiated
    // sign-on is allowed; node-saml then checks InResponseTo only when there is one.
    validateInResponseTo: unsolicited ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
    ...want,
  });
}

/** The profile a sign-in gave, reduced to what a report shows. */
export function summary(profile) {
  const { issuer, nameID, nameIDFormat, inResponseTo, sessionIndex, attributes } = profile;
  return { issuer, nameID, nameIDFormat, inResponseTo, sessionIndex, attributes };
}

/** A RelayState the SP redirects to: a local path, anything else is `/` (no open redirect). */
function localPath(relay) {
  return typeof relay === "string" && /^\/(?![/\\])/.test(relay) ? relay : "/";
}

/** The body limit of express's `urlencoded()` parser (100 kB), which a node-saml app's ACS usually sits behind. */
const MAX_BODY = 100 * 1024;

class TooLarge extends Error {}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    let size = 0;
    req.setEncoding("utf8");
    // Beyond the limit the rest is read and dropped, so the client gets the 413.
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) body += chunk;
    });
    req.on("end", () => (size > MAX_BODY ? reject(new TooLarge(`the body exceeds ${MAX_BODY} bytes`)) : resolve(body)));
    req.on("error", reject);
  });
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(body);
}

/**
 * Serves an SP on 127.0.0.1:`port` around `saml`, anything with node-saml's `getAuthorizeUrlAsync` and
 * `validatePostResponseAsync` (node-saml, or the SAML class of an older passport-saml); `label` names it.
 */
export function serve({ port, saml, users, label }) {
  const base = `http://127.0.0.1:${port}`;
  const sessions = new Map();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, base);
    try {
      if (req.method === "GET" && url.pathname === "/login") {
        const redirect = await saml.getAuthorizeUrlAsync(url.searchParams.get("RelayState") ?? "/", undefined, {});
        return send(res, 302, "", { location: redirect });
      }
      if (req.method === "POST" && url.pathname === "/acs") {
        const form = new URLSearchParams(await readBody(req));
        try {
          const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: form.get("SAMLResponse") ?? "" });
          if (!profile) throw new Error("no profile (a LogoutResponse or a NoPassive answer)");
          if (users && !users.includes(profile.nameID)) throw new Error(`no account for ${profile.nameID}`);
          const id = randomBytes(16).toString("hex");
          sessions.set(id, summary(profile));
          console.log(JSON.stringify({ acs: "accepted", nameID: profile.nameID, inResponseTo: profile.inResponseTo }));
          return send(res, 302, "", {
            location: localPath(form.get("RelayState")),
            "set-cookie": `sp_session=${id}; Path=/; HttpOnly; SameSite=Lax`,
          });
        } catch (e) {
          console.log(JSON.stringify({ acs: "refused", error: String(e?.message ?? e) }));
          return send(res, 403, `SAML Response refused: ${e?.message ?? e}\n`);
        }
      }
      if (req.method === "GET" && url.pathname === "/me") {
        const id = (req.headers.cookie ?? "").match(/(?:^|;\s*)sp_session=([0-9a-f]+)/)?.[1];
        const profile = id && sessions.get(id);
        if (!profile) return send(res, 401, "not signed in\n");
        return send(res, 200, JSON.stringify(profile), { "content-type": "application/json" });
      }
      if (req.method === "GET" && url.pathname === "/metadata") {
        const metadata = saml.generateServiceProviderMetadata(null);
        return send(res, 200, metadata, { "content-type": "application/samlmetadata+xml" });
      }
      return send(res, 404, "not found\n");
    } catch (e) {
      if (e instanceof TooLarge) {
        console.log(JSON.stringify({ acs: "refused", error: e.message }));
        return send(res, 413, `${e.message}\n`);
      }
      return send(res, 500, `error: ${e?.message ?? e}\n`);
    }
  });
  server.listen(port, "127.0.0.1", () => console.log(`${label} SP listening on ${base}`));
  return server;
}

/** An environment variable that must be set. */
export function required(name) {
  if (process.env[name] === undefined) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return process.env[name];
}

/** SP_USERS as a list, or undefined. */
export function spUsers() {
  return process.env.SP_USERS?.split(",").map((u) => u.trim());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.SP_PORT ?? 18620);
  const signed = process.env.SP_SIGNED ?? "assertion";
  const saml = makeSaml({
    base: `http://127.0.0.1:${port}`,
    ssoUrl: required("IDP_SSO_URL"),
    idpCert: readFileSync(required("IDP_CERT_FILE"), "utf8"),
    signed,
    unsolicited: process.env.SP_UNSOLICITED === "1",
  });
  serve({ port, saml, users: spUsers(), label: `node-saml (${signed} signed)` });
}
