// What a browser does in Web Browser SSO (SAML Profiles §4.1), without a browser: follow a redirect, read an
// HTML form's action and fields, submit it. Enough for the mock IdP's pages and for the SPs of this folder.

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", apos: "'" };

/** Undoes the HTML escaping of an attribute value. */
export function unescapeHtml(s) {
  return s.replace(/&(amp|lt|gt|quot|#39|apos);/g, (_, e) => ENTITIES[e]);
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`, "i"));
  return m ? unescapeHtml(m[1]) : undefined;
}

/** The forms of a page: `{ action, method, fields: {name: value} }`, hidden inputs only. */
export function forms(html) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fields = {};
    for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], "name");
      if (name && attr(input[0], "type") === "hidden") fields[name] = attr(input[0], "value") ?? "";
    }
    out.push({ action: attr(m[1], "action"), method: (attr(m[1], "method") ?? "get").toLowerCase(), fields });
  }
  return out;
}

/** A GET that does not follow redirects. */
export async function get(url, headers = {}) {
  return fetch(url, { redirect: "manual", headers });
}

/** A form POST (`application/x-www-form-urlencoded`) that does not follow redirects. */
export async function postForm(url, fields, headers = {}) {
  return fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The `Location` of a 3xx, or an error naming what came instead. */
export async function location(response, what) {
  const loc = response.headers.get("location");
  if (response.status < 300 || response.status >= 400 || !loc) {
    const body = (await response.text()).slice(0, 300);
    throw new Error(`${what}: expected a redirect, got HTTP ${response.status}: ${body}`);
  }
  return loc;
}

/** The value of cookie `name` among the `Set-Cookie` headers, or undefined. */
export function cookie(response, name) {
  for (const c of response.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    if (pair.slice(0, i).trim() === name && pair.slice(i + 1).trim() !== "") return pair.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Signs `email` in at the mock IdP (`idconform idp saml serve`) whose login page `loginPage` is (the answer to an
 * AuthnRequest or to `/idp-initiated`): submits the email form, returns the Response form `{ action, fields }`
 * the IdP's page would post to the SP's ACS (SAML Bindings §3.5.4).
 */
export async function mockIdpSignIn(loginPage, email) {
  if (loginPage.status !== 200) {
    throw new Error(`the mock IdP refused: HTTP ${loginPage.status}: ${(await loginPage.text()).slice(0, 300)}`);
  }
  const login = forms(await loginPage.text()).find((f) => f.action?.endsWith("/sso/login"));
  if (!login) throw new Error("no login form on the mock IdP's page");
  const posted = await postForm(login.action, { ...login.fields, email });
  const page = await posted.text();
  if (posted.status !== 200) {
    throw new Error(`the mock IdP's login failed: HTTP ${posted.status}: ${page.slice(0, 300)}`);
  }
  const response = forms(page).find((f) => "SAMLResponse" in f.fields);
  if (!response) throw new Error("no SAMLResponse form on the mock IdP's page");
  return response;
}
