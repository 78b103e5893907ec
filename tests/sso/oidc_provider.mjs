// A real OpenID Connect provider for the single sign-on tests: the certified `oidc-provider`
// package (package.json), on 127.0.0.1. Started by tests/sso/conftest.py with:
//   OIDC_PORT, OIDC_JWKS (private signing keys, the first signs), OIDC_CLIENTS, OIDC_ACCOUNTS
//   ({id: {claims: {...}, amr: [...]}}).
// Sign-in is scripted: the account is the authorisation request's `login_hint`, and its `amr`
// comes from OIDC_ACCOUNTS. Without a login_hint (a person in a browser, tests/e2e), the
// provider shows its own sign-in page, where the person types their account's name. POST /__test/mischief?mode=... alters the next ID token the token
// endpoint returns, as an attacker or a broken provider would (wrong audience, expired, bad
// signature, another nonce).
import Provider from "oidc-provider";
import * as jose from "jose";

const port = Number(process.env.OIDC_PORT);
const jwks = JSON.parse(process.env.OIDC_JWKS);
const clients = JSON.parse(process.env.OIDC_CLIENTS);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);
const issuer = `http://127.0.0.1:${port}`;
let mischief = null;

const provider = new Provider(issuer, {
  clients,
  jwks,
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    // amr / acr / auth_time ride on the openid scope so the ID token carries them.
    openid: ["sub", "tid", "hd", "oid", "amr", "acr", "auth_time"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) =>
    accounts[id] ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id].claims }) } : undefined,
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
});

async function tamper(idToken, mode) {
  if (mode === "bad_signature") {
    const [h, p, s] = idToken.split(".");
    const flipped = (s[0] === "A" ? "B" : "A") + s.slice(1);
    return [h, p, flipped].join(".");
  }
  const payload = jose.decodeJwt(idToken);
  const header = jose.decodeProtectedHeader(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === "wrong_audience") payload.aud = "someone-elses-app";
  if (mode === "expired") Object.assign(payload, { iat: now - 7200, exp: now - 3600 });
  if (mode === "other_nonce") payload.nonce = "a-nonce-from-another-sign-in";
  const key = await jose.importJWK(jwks.keys[0], header.alg);
  return new jose.SignJWT(payload).setProtectedHeader({ alg: header.alg, kid: header.kid }).sign(key);
}

// The provider's own sign-in page, as a browser sees Microsoft's or Google's.
function signInPage(action) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Sign in to your organisation</h1>
<form method="post" action="${action}">
<label for="account">Account</label> <input id="account" name="account" autocomplete="username">
<button type="submit">Continue</button></form></main></body></html>`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

provider.use(async (ctx, next) => {
  if (ctx.path === "/__test/mischief") {
    mischief = ctx.query.mode || null;
    ctx.body = "ok";
    return;
  }
  if (ctx.path.startsWith("/interaction/")) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    let accountId = details.params.login_hint;
    if (!accountId && ctx.method === "GET") {
      ctx.type = "html";
      ctx.body = signInPage(ctx.path);
      return;
    }
    if (!accountId) {
      accountId = new URLSearchParams(await readBody(ctx.req)).get("account");
    }
    if (!accounts[accountId]) {
      ctx.status = 400;
      ctx.body = "unknown account";
      return;
    }
    const result = { login: { accountId, amr: accounts[accountId].amr || ["pwd"] } };
    const to = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(to);
    return;
  }
  await next();
  if (ctx.path === "/token" && mischief && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, mischief) };
    mischief = null;
  }
});

provider.listen(port, "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
