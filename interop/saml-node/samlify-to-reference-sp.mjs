// Part 2: the reference SP (`idconform serve`) accepts Responses signed by samlify's IdentityProvider.
//
//   SERVER=http://127.0.0.1:18630 WORKSPACE=acme ADMIN_JWT=… USER_EMAIL=owner@acme.example \
//   SAMLIFY_KEY_FILE=… SAMLIFY_CERT_FILE=… node samlify-to-reference-sp.mjs
//
// The samlify IdP's metadata becomes a connection (`POST /saml/connections`); then, for each signing placement,
// an SP-initiated sign-in: `GET /saml/authorize/{workspace}` gives the AuthnRequest (HTTP-Redirect binding),
// samlify parses it (schema-validated by xmllint compiled to WebAssembly: no Java) and answers with a signed
// Response (HTTP-POST binding), posted with the RelayState to the ACS; the reference SP must answer 303 with its
// session cookie, and the session must be the user's. A control posts samlify's default Response, which has no
// AuthnStatement: the SP must refuse it (SAML Profiles §4.1.4.2). Exit code 1 on any failure.

import { readFileSync } from "node:fs";

import validator from "@authenio/samlify-node-xmllint";
import samlify from "samlify";

import { cookie, get, location, postForm } from "./browser.mjs";

const need = (name) => process.env[name] ?? (console.error(`${name} is not set`), process.exit(2));
const server = need("SERVER").replace(/\/$/, "");
const workspace = need("WORKSPACE");
const jwt = need("ADMIN_JWT");
const user = need("USER_EMAIL");
const privateKey = readFileSync(need("SAMLIFY_KEY_FILE"), "utf8");
const signingCert = readFileSync(need("SAMLIFY_CERT_FILE"), "utf8");

// samlify validates every message it parses against the SAML schemas through this callback (xmllint, compiled to
// WebAssembly, prints a blank line per document). It parses only the AuthnRequests here; what it builds it does
// not validate. Counted, to show each AuthnRequest of the reference SP was validated.
let validated = 0;
samlify.setSchemaValidator({
  validate: async (xml) => {
    const result = await validator.validate(xml);
    validated += 1;
    return result;
  },
});

const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const idpBase = "https://samlify.idp.test";

// What an IdP such as Okta sends (SAML Profiles §4.1.4.2): an AuthnStatement and the user's attributes, on top of
// samlify's default Response.
const TEMPLATE =
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}" InResponseTo="{InResponseTo}">' +
  "<saml:Issuer>{Issuer}</saml:Issuer>" +
  '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
  '<saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">' +
  "<saml:Issuer>{Issuer}</saml:Issuer>" +
  '<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID>' +
  '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
  '<saml:SubjectConfirmationData NotOnOrAfter="{NotOnOrAfter}" Recipient="{Recipient}" InResponseTo="{InResponseTo}"/>' +
  "</saml:SubjectConfirmation></saml:Subject>" +
  '<saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>' +
  '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{SessionIndex}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
  "<saml:AttributeStatement>" +
  '<saml:Attribute Name="email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">{NameID}</saml:AttributeValue></saml:Attribute>' +
  '<saml:Attribute Name="firstName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">{FirstName}</saml:AttributeValue></saml:Attribute>' +
  "</saml:AttributeStatement>" +
  "</saml:Assertion></samlp:Response>";

const idp = samlify.IdentityProvider({
  entityID: `${idpBase}/metadata`,
  privateKey,
  signingCert,
  nameIDFormat: [EMAIL],
  singleSignOnService: [
    { Binding: REDIRECT, Location: `${idpBase}/sso` },
    { Binding: POST, Location: `${idpBase}/sso` },
  ],
  singleLogoutService: [{ Binding: REDIRECT, Location: `${idpBase}/slo` }],
  loginResponseTemplate: { context: TEMPLATE, attributes: [] },
});

let failures = 0;
const ok = (what, detail = "") => console.log(`  ok    ${what}${detail ? `: ${detail}` : ""}`);
const bad = (what, detail) => {
  failures += 1;
  console.log(`  FAIL  ${what}: ${detail}`);
};
const bearer = { authorization: `Bearer ${jwt}` };

const { version } = JSON.parse(readFileSync(new URL("./node_modules/samlify/package.json", import.meta.url), "utf8"));
console.log(`samlify ${version} IdP → reference SP at ${server} (workspace ${workspace})`);

// The connection, from samlify's metadata (a connection to this IdP left by an earlier run is replaced).
const metadataXml = idp.getMetadata();
const existing = await (await fetch(`${server}/saml/connections`, { headers: bearer })).json();
for (const c of existing.items ?? []) {
  if (c.entity_id === `${idpBase}/metadata`) {
    await fetch(`${server}/saml/connections/${c.id}`, { method: "DELETE", headers: bearer });
  }
}
const created = await fetch(`${server}/saml/connections`, {
  method: "POST",
  headers: { ...bearer, "content-type": "application/json" },
  body: JSON.stringify({ metadata_xml: metadataXml }),
});
const connection = await created.json();
if (created.status !== 201) {
  bad("POST /saml/connections with samlify's metadata", `HTTP ${created.status}: ${JSON.stringify(connection)}`);
  process.exit(1);
}
ok("POST /saml/connections with samlify's metadata", `connection ${connection.id}`);

// The SP as samlify sees it: the reference SP's metadata.
const spMetadata = await (await get(`${server}/saml/metadata/${workspace}`)).text();

/**
 * One SP-initiated sign-in: the AuthnRequest, samlify's answer (from TEMPLATE, or samlify's own template when
 * `samlifyDefault`), the ACS's verdict.
 */
async function signIn(spSettings, { samlifyDefault = false } = {}) {
  const sp = samlify.ServiceProvider(spSettings);
  const authorize = await get(`${server}/saml/authorize/${workspace}?RelayState=%2Fdashboard`);
  const loc = await location(authorize, "GET /saml/authorize");
  const query = Object.fromEntries(new URL(loc).searchParams);
  if (!loc.startsWith(`${idpBase}/sso?`)) throw new Error(`the AuthnRequest goes to ${loc}`);
  const request = await idp.parseLoginRequest(sp, "redirect", { query });
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60_000);
  const replace = (template) => {
    const id = `_${crypto.randomUUID()}`;
    const values = {
      ID: id,
      AssertionID: `_${crypto.randomUUID()}`,
      Destination: sp.entityMeta.getAssertionConsumerService("post"),
      Recipient: sp.entityMeta.getAssertionConsumerService("post"),
      Audience: sp.entityMeta.getEntityID(),
      Issuer: idp.entityMeta.getEntityID(),
      IssueInstant: now.toISOString(),
      NotBefore: now.toISOString(),
      NotOnOrAfter: later.toISOString(),
      NameIDFormat: EMAIL,
      NameID: user,
      FirstName: "Owner",
      InResponseTo: request.extract.request.id,
      SessionIndex: `_${crypto.randomUUID()}`,
    };
    return { id, context: samlify.SamlLib.replaceTagsByValue(template, values) };
  };
  const answer = await idp.createLoginResponse(sp, request, "post", { email: user }, {
    relayState: query.RelayState,
    customTagReplacement: samlifyDefault ? undefined : replace,
  });
  const xml = Buffer.from(answer.context, "base64").toString("utf8");
  const r = await postForm(answer.entityEndpoint, { SAMLResponse: answer.context, RelayState: answer.relayState });
  return { r, xml, requestId: request.extract.request.id, relay: answer.relayState };
}

/** Which elements samlify signed (it puts each signature right after its element's Issuer). */
const signatures = (xml) => {
  const assertionAt = xml.indexOf("<saml:Assertion");
  const first = xml.indexOf("<ds:Signature");
  const response = first !== -1 && first < assertionAt;
  const assertion = xml.indexOf("<ds:Signature", assertionAt) !== -1;
  return [response && "Response", assertion && "Assertion"].filter(Boolean).join(" and ") || "nothing";
};

const cases = [
  // samlify signs the Assertion when the SP's metadata has WantAssertionsSigned="true" (the reference SP's does).
  { name: "assertion signed (samlify's default for this SP)", settings: { metadata: spMetadata } },
  // wantMessageSigned adds the Response signature around the signed Assertion.
  { name: "assertion and Response signed", settings: { metadata: spMetadata, wantMessageSigned: true } },
  // Without WantAssertionsSigned samlify signs only the Response (SAML Profiles §4.1.4.5, as amended by the
  // errata, allows either).
  {
    name: "Response signed",
    settings: { metadata: spMetadata.replace(/WantAssertionsSigned="true"/, 'WantAssertionsSigned="false"') },
  },
];

for (const c of cases) {
  try {
    const before = validated;
    const { r, xml, requestId } = await signIn(c.settings);
    if (validated === before) bad(`${c.name}: samlify schema-validated the AuthnRequest`, "no validator call");
    const session = cookie(r, "idconform_session");
    const signed = signatures(xml);
    if (![302, 303].includes(r.status) || !session) {
      bad(`${c.name} [${signed} signed]`, `HTTP ${r.status}: ${(await r.text()).slice(0, 400)}`);
      continue;
    }
    const me = await get(`${server}/api/v1/session`, { cookie: `idconform_session=${session}` });
    const who = me.status === 200 ? (await me.json()).member?.email : `HTTP ${me.status}`;
    if (who !== user) bad(`${c.name}: the session is the user's`, who);
    const where = r.headers.get("location");
    ok(`${c.name} [${signed} signed]`, `HTTP ${r.status} → ${where}, session of ${who}, InResponseTo ${requestId}`);
  } catch (e) {
    bad(c.name, e?.stack ?? e);
  }
}

// Control: samlify's built-in template has an empty {AuthnStatement}; Profiles §4.1.4.2 requires one.
try {
  const { r, xml } = await signIn({ metadata: spMetadata }, { samlifyDefault: true });
  const what = "control: samlify's default Response (no AuthnStatement) is refused";
  if (xml.includes("AuthnStatement")) bad(what, "it has an AuthnStatement");
  else if (cookie(r, "idconform_session")) bad(what, `HTTP ${r.status}, signed in`);
  else ok(what, `HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
} catch (e) {
  bad("control: samlify's default Response", e?.stack ?? e);
}

console.log(failures ? `samlify → reference SP: ${failures} failure(s)` : "samlify → reference SP: all passed");
process.exit(failures ? 1 : 0);
