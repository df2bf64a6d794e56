// The SP of ../sp.mjs around passport-saml 3.2.1's SAML class (its bundled node-saml), a version with a known
// signature bypass: CVE-2022-39299 (GHSA-m974-647v-whv7), fixed in 3.2.2. Configured like the current one
// (every Response answering a request of this SP, the same clock skew), but with passport-saml 3's default
// `wantAssertionsSigned: false`: a valid Response signature, or else a signed Assertion, which is what that
// vulnerability bypasses.
//
//   SP_PORT=18640 IDP_SSO_URL=… IDP_CERT_FILE=… SP_USERS=qa@example.com node vulnerable/sp.mjs

import { readFileSync } from "node:fs";

import { SAML } from "passport-saml/lib/node-saml/index.js";

import { SKEW_MS, required, serve, spUsers } from "../sp.mjs";

const port = Number(process.env.SP_PORT ?? 18640);
const base = `http://127.0.0.1:${port}`;
const saml = new SAML({
  callbackUrl: `${base}/acs`,
  entryPoint: required("IDP_SSO_URL"),
  issuer: `${base}/metadata`,
  audience: `${base}/metadata`,
  cert: readFileSync(required("IDP_CERT_FILE"), "utf8"),
  identifierFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
  acceptedClockSkewMs: SKEW_MS,
  validateInResponseTo: true,
});
serve({ port, saml, users: spUsers(), label: "passport-saml 3.2.1" });
