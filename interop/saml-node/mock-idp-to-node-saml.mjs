// Part 1: node-saml accepts what idconform's mock IdP (`idconform idp saml serve`) signs.
//
//   node mock-idp-to-node-saml.mjs IDP_BASE CERT_FILE SIGNED STYLE
//
// SP-initiated (SAML Profiles §4.1.3): node-saml builds the AuthnRequest redirect, the script follows it to the
// mock IdP's login page, submits a user, reads the SAMLResponse of the page that would post it to the ACS, and
// node-saml's validatePostResponseAsync must accept it; the profile is printed. Then the controls that show
// node-saml judged it: the same Response again is refused (its request was answered, Profiles §4.1.4.5), and an
// SP that demands the signature the IdP did not make refuses. Then IdP-initiated (Profiles §4.1.5) with an SP
// that accepts unsolicited Responses, and with one that does not. SIGNED is what the IdP was started with
// (`--signing assertion|response|both`), STYLE its `--style` (okta | entra). Exit code 1 on any failure.

import { readFileSync } from "node:fs";
import { inflateRawSync } from "node:zlib";

import { get, mockIdpSignIn } from "./browser.mjs";
import { makeSaml, summary } from "./sp.mjs";

const [idp, certFile, signed, style] = process.argv.slice(2);
if (!idp || !certFile || !signed || !style) {
  console.error("usage: node mock-idp-to-node-saml.mjs IDP_BASE CERT_FILE SIGNED STYLE");
  process.exit(2);
}
const idpCert = readFileSync(certFile, "utf8");
// The SP is never served here: node-saml only needs its URLs to build requests and check Responses.
const base = "http://127.0.0.1:18620";
const user = "jane.doe@example.com";
const expected = {
  okta: { email: user, firstName: "Jane", lastName: "Doe" },
  entra: {
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": user,
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": "Jane",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": "Doe",
  },
}[style];
const label = `mock IdP (--style ${style} --signing ${signed}) → node-saml`;
let failures = 0;

function ok(what, detail = "") {
  console.log(`  ok    ${what}${detail ? `: ${detail}` : ""}`);
}
function bad(what, detail) {
  failures += 1;
  console.log(`  FAIL  ${what}: ${detail}`);
}

async function accepts(saml, samlResponse) {
  try {
    return { profile: (await saml.validatePostResponseAsync({ SAMLResponse: samlResponse })).profile };
  } catch (e) {
    return { error: e?.message ?? String(e) };
  }
}

async function refused(what, saml, samlResponse) {
  const r = await accepts(saml, samlResponse);
  if (r.error) ok(what, `refused (${r.error})`);
  else bad(what, "accepted");
}

/** Checks the profile's NameID and attributes; prints it. */
function judge(profile, inResponseTo) {
  const s = summary(profile);
  console.log(`  profile ${JSON.stringify(s)}`);
  if (s.nameID !== user) bad("NameID", `${s.nameID}, expected ${user}`);
  if (inResponseTo !== undefined && s.inResponseTo !== inResponseTo) {
    bad("InResponseTo", `${s.inResponseTo}, expected ${inResponseTo}`);
  }
  for (const [name, value] of Object.entries(expected)) {
    const got = [profile[name]].flat()[0];
    if (got !== value) bad(`attribute ${name}`, `${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
  }
}

console.log(label);

// SP-initiated.
const sp = makeSaml({ base, ssoUrl: `${idp}/sso`, idpCert, signed });
const redirect = await sp.getAuthorizeUrlAsync("/after-login", undefined, {});
// The AuthnRequest's ID (HTTP-Redirect binding, SAML Bindings §3.4.4.1: DEFLATE, base64), which the Response answers.
const requestXml = inflateRawSync(Buffer.from(new URL(redirect).searchParams.get("SAMLRequest"), "base64")).toString();
const requestId = requestXml.match(/\sID="([^"]+)"/)?.[1];
const form = await mockIdpSignIn(await get(redirect), user);
if (form.action !== `${base}/acs`) bad("the Response form posts to the ACS", form.action);
if (form.fields.RelayState !== "/after-login") bad("RelayState comes back", JSON.stringify(form.fields.RelayState));
const first = await accepts(sp, form.fields.SAMLResponse);
if (first.error) {
  bad(`SP-initiated Response accepted (node-saml demanding ${signed} signed)`, first.error);
} else {
  ok(`SP-initiated Response accepted (node-saml demanding ${signed} signed)`, `InResponseTo ${requestId}`);
  judge(first.profile, requestId);
}
await refused("the same Response posted again", sp, form.fields.SAMLResponse);

// The signature node-saml demands but the IdP did not make: a fresh request each time, so only that differs.
const missing = { assertion: ["response", "both"], response: ["assertion", "both"], both: [] }[signed] ?? [];
for (const demand of missing) {
  const strict = makeSaml({ base, ssoUrl: `${idp}/sso`, idpCert, signed: demand });
  const f = await mockIdpSignIn(await get(await strict.getAuthorizeUrlAsync("/", undefined, {})), user);
  await refused(`control: node-saml demanding ${demand} signed`, strict, f.fields.SAMLResponse);
}

// IdP-initiated: unsolicited Responses (no InResponseTo).
const unsolicitedUrl = (s) =>
  `${idp}/idp-initiated?${new URLSearchParams({ acs: `${base}/acs`, audience: `${base}/metadata`, relay_state: s })}`;
const lax = makeSaml({ base, ssoUrl: `${idp}/sso`, idpCert, signed, unsolicited: true });
const idpInit = await mockIdpSignIn(await get(unsolicitedUrl("/from-idp")), user);
const r = await accepts(lax, idpInit.fields.SAMLResponse);
if (r.error) {
  bad("IdP-initiated Response accepted (validateInResponseTo: ifPresent)", r.error);
} else {
  ok("IdP-initiated Response accepted (validateInResponseTo: ifPresent)");
  judge(r.profile, undefined);
  // SAML Profiles §4.1.4.5: the SP MUST keep the IDs of used bearer assertions until they expire. node-saml's
  // replay protection is its request-ID cache, which an unsolicited Response never touches.
  const again = await accepts(lax, idpInit.fields.SAMLResponse);
  if (again.error) ok("the same unsolicited Response posted again", `refused (${again.error})`);
  else console.log("  WARN  the same unsolicited Response posted again is accepted (no used assertion IDs are kept)");
}
const strictIdpInit = await mockIdpSignIn(await get(unsolicitedUrl("/")), user);
await refused("IdP-initiated Response with validateInResponseTo: always", sp, strictIdpInit.fields.SAMLResponse);

console.log(failures ? `${label}: ${failures} failure(s)` : `${label}: all passed`);
process.exit(failures ? 1 : 0);
