// A real OpenID Connect provider (npm `oidc-provider`) for Portico's single sign-on tests.
//
//   node tests/idp/oidc/server.mjs [--port N]      (or OIDC_IDP_PORT=N; 0, the default, picks a free port)
//
// Listens on 127.0.0.1 only; the issuer is `http://127.0.0.1:<port>`. When listening it prints one line,
//   OIDC_IDP_READY {"issuer":"http://127.0.0.1:<port>","port":<port>}
// and it exits on SIGTERM/SIGINT, or when its stdin closes if stdin is a pipe (the pytest fixture holds
// the pipe, so the provider cannot outlive the test session).
//
// What it offers (tests/oidc_idp.py drives it):
// - open dynamic client registration (POST /reg, no initial access token), code flow only,
//   client_secret_post and client_secret_basic; PKCE (S256) optional for these confidential clients and
//   enforced at the token endpoint whenever the authorization request carried a code_challenge;
//   http redirect URIs (e.g. http://acme.localhost:54321/...) are accepted for web clients using code.
// - scopes openid, email, profile; RS256 keys made at startup (GET /jwks).
// - sign-in: our own small pages, no external resources (devInteractions' pages import Google Fonts):
//     login page   form#login-form  input[name=login] (type=email, label "Email")  button "Sign in"
//                  form#cancel-form  button "Cancel" (ends with error=access_denied at the client)
//     consent page (only when the client sends prompt=consent; otherwise consent for openid, email and
//                  profile is given automatically): form#consent-form button "Continue", and #cancel-form.
// - accounts: whatever email is typed. sub = first 32 hex digits of sha256(lowercased email);
//   email_verified is false when the local part starts with "unverified", true otherwise; name,
//   given_name and family_name are made from the email (see namesFor). Email and profile claims are
//   in the id_token as well as at userinfo (conformIdTokenClaims: false).

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({ options: { port: { type: 'string' } } });
const requestedPort = Number(args.port ?? process.env.OIDC_IDP_PORT ?? 0);

// ---------------------------------------------------------------------------------------------------
// Accounts

const accounts = new Map(); // sub -> email, filled at sign-in

function subFor(email) {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
}

function capitalize(word) {
  return word ? word[0].toUpperCase() + word.slice(1).toLowerCase() : word;
}

// ann@acme.example -> Ann Acme; ann.smith@... -> Ann Smith; unverified.bob@... -> Bob Acme.
function namesFor(email) {
  const [local, domain = ''] = email.split('@');
  const parts = local.split(/[._+-]+/).filter(Boolean);
  if (parts.length > 1 && parts[0].toLowerCase().startsWith('unverified')) parts.shift();
  const given = capitalize(parts[0] || 'user');
  const family = parts.length > 1 ? parts.slice(1).map(capitalize).join(' ') : capitalize(domain.split('.')[0] || 'user');
  return { name: `${given} ${family}`, given_name: given, family_name: family };
}

async function findAccount(ctx, sub) {
  const email = accounts.get(sub);
  if (!email) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email,
        email_verified: !email.split('@')[0].toLowerCase().startsWith('unverified'),
        ...namesFor(email),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Pages (no external resources)

const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Test identity provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem}
label,input,button{display:block;font-size:1rem;margin:.5rem 0}input{width:100%;padding:.4rem}
.error{color:#a00}</style>
</head>
<body>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function loginPage({ uid, clientName, loginHint, error }) {
  return page('Sign in', `<p>Sign in to continue to ${escape(clientName)}.</p>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="login">Email</label>
<input id="login" name="login" type="email" required autofocus value="${escape(loginHint)}">
<button type="submit">Sign in</button>
</form>
<form id="cancel-form" method="post" action="/interaction/${escape(uid)}/abort">
<button type="submit">Cancel</button>
</form>`);
}

function consentPage({ uid, clientName, scopes }) {
  return page('Authorize', `<p>${escape(clientName)} asks for: ${escape(scopes.join(', '))}.</p>
<form id="consent-form" method="post" action="/interaction/${escape(uid)}/confirm">
<button type="submit">Continue</button>
</form>
<form id="cancel-form" method="post" action="/interaction/${escape(uid)}/abort">
<button type="submit">Cancel</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// ---------------------------------------------------------------------------------------------------
// The provider

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const SCOPES = ['openid', 'email', 'profile'];

function configuration() {
  return {
    findAccount,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // Clients known from the start (the demo's, `scripts/serve.sh`); the tests register theirs.
    clients: process.env.OIDC_IDP_CLIENTS ? JSON.parse(process.env.OIDC_IDP_CLIENTS) : [],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    conformIdTokenClaims: false,
    // Required for public clients only (the default); a code_challenge sent is always checked.
    pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<p>You are signed out of the test identity provider.</p>');
        },
      },
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Consent for openid, email and profile is given without asking (unless prompt=consent).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES.join(' '));
      await grant.save();
      return grant;
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', Object.entries(out)
        .map(([key, value]) => `<p><strong>${escape(key)}</strong>: <span class="${escape(key)}">${escape(value)}</span></p>`)
        .join('\n'));
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      ClientCredentials: 600,
      DeviceCode: 600,
      Grant: 14 * 24 * 3600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
  };
}

function interactionRoutes(provider) {
  return async function interactions(ctx, next) {
    const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(ctx.path);
    if (!match) return next();
    const [, , action] = match;
    ctx.set('Cache-Control', 'no-store');
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { uid, prompt, params } = details;
    const client = await provider.Client.find(params.client_id);
    const clientName = client?.clientName || params.client_id;

    if (!action && ctx.method === 'GET') {
      ctx.type = 'html';
      if (prompt.name === 'login') {
        ctx.body = loginPage({ uid, clientName, loginHint: params.login_hint });
      } else {
        ctx.body = consentPage({ uid, clientName, scopes: String(params.scope || '').split(' ') });
      }
      return undefined;
    }
    if (ctx.method !== 'POST' || !action) ctx.throw(405);

    let result;
    if (action === 'abort') {
      result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    } else if (action === 'login') {
      if (prompt.name !== 'login') ctx.throw(400, 'not at the login step');
      const email = ((await readForm(ctx.req)).get('login') || '').trim();
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = loginPage({ uid, clientName, loginHint: email, error: 'Enter an email address.' });
        return undefined;
      }
      const sub = subFor(email);
      accounts.set(sub, email);
      result = { login: { accountId: sub } };
    } else {
      if (prompt.name !== 'consent') ctx.throw(400, 'not at the consent step');
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      result = { consent: { grantId: await grant.save() } };
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: action === 'confirm',
    });
    ctx.status = 303;
    ctx.redirect(redirectTo);
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------------------
// Serving

const httpServer = createServer();
httpServer.listen(requestedPort, '127.0.0.1', () => {
  const { port } = httpServer.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.use(interactionRoutes(provider));
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'registration_create.error',
    'userinfo.error', 'end_session.error', 'revocation.error']) {
    provider.on(event, (ctx, error) => {
      const err = error ?? ctx;
      const why = [err?.error_description, err?.error_detail].filter(Boolean).join('; ');
      console.error(`[oidc-idp] ${event}: ${err?.name}: ${err?.message}${why ? ` (${why})` : ''}`);
    });
  }
  httpServer.on('request', provider.callback());
  console.log(`OIDC_IDP_READY ${JSON.stringify({ issuer, port })}`);
});

function stop() {
  httpServer.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (fstatSync(0).isFIFO()) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
