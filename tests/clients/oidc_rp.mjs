// openid-client (panva's certified OpenID Connect relying party for Node) as a test client:
// the same line protocol as signer.mjs, which merges these ops into its own.
//
// A relying party is made by `oidc.discover` (discovery against a live keyfob) and named by the
// returned `rp` id in every later op. The Python side drives the browser part (it holds the SSO
// cookie), so an authorization is two steps: `oidc.authorize` builds the URL and the checks
// (PKCE verifier, state, nonce) that openid-client will verify, `oidc.callback` takes the URL
// the browser was sent back to and runs openid-client's own callback validation and code grant.

import { generateKeyPairSync } from 'node:crypto';

const client = await import('openid-client');

const rps = new Map(); // id -> { config, redirectUri, checks: Map(state -> {verifier, nonce}) }
const privateKeys = new Map(); // keyId -> { key: CryptoKey, kid } (private_key_jwt)
let nextId = 1;

function need(params, name, type) {
  const value = params[name];
  if (typeof value !== type) throw new Error(`${name}: expected ${type}, got ${typeof value}`);
  return value;
}

function rpOf(params) {
  const rp = rps.get(need(params, 'rp', 'string'));
  if (!rp) throw new Error(`unknown rp ${params.rp}`);
  return rp;
}

function clientAuth(params) {
  switch (params.authMethod ?? 'client_secret_basic') {
    case 'client_secret_basic':
      return client.ClientSecretBasic(need(params, 'clientSecret', 'string'));
    case 'client_secret_post':
      return client.ClientSecretPost(need(params, 'clientSecret', 'string'));
    case 'none':
      return client.None();
    case 'private_key_jwt':
      return client.PrivateKeyJwt(privateKeys.get(need(params, 'keyId', 'string')));
    default:
      throw new Error(`unknown authMethod ${params.authMethod}`);
  }
}

// An RP key pair for private_key_jwt: the private key stays here, the public JWK goes back.
async function makeKey(params) {
  const alg = params.alg ?? 'ES256';
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = `k${nextId++}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: keyId, alg, use: 'sig' };
  const cryptoKey = await crypto.subtle.importKey(
    'jwk',
    privateKey.export({ format: 'jwk' }),
    alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  privateKeys.set(keyId, { key: cryptoKey, kid: keyId });
  return { keyId, jwk };
}

async function discover(params) {
  const issuer = new URL(need(params, 'issuer', 'string'));
  const metadata = { redirect_uri: need(params, 'redirectUri', 'string') };
  if (params.idTokenAlg) metadata.id_token_signed_response_alg = params.idTokenAlg;
  const config = await client.discovery(
    issuer,
    need(params, 'clientId', 'string'),
    metadata,
    clientAuth(params),
    { execute: [client.allowInsecureRequests] }, // the tests' keyfob listens on http://127.0.0.1
  );
  const id = `rp${nextId++}`;
  rps.set(id, { config, redirectUri: metadata.redirect_uri, checks: new Map() });
  return { rp: id, metadata: config.serverMetadata() };
}

async function authorize(params) {
  const rp = rpOf(params);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = params.nonce === false ? undefined : client.randomNonce();
  const query = {
    redirect_uri: rp.redirectUri,
    scope: params.scope ?? 'openid',
    state,
    ...(nonce ? { nonce } : {}),
    ...(params.pkce === false
      ? {}
      : { code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }),
    ...(params.extra ?? {}),
  };
  rp.checks.set(state, { verifier: params.pkce === false ? undefined : verifier, nonce });
  return { url: client.buildAuthorizationUrl(rp.config, query).href, state, nonce: nonce ?? null };
}

function tokensOut(tokens) {
  return {
    tokens: { ...tokens },
    claims: tokens.id_token ? tokens.claims() : null,
  };
}

async function callback(params) {
  const rp = rpOf(params);
  const url = new URL(need(params, 'url', 'string'));
  const state = params.state ?? url.searchParams.get('state');
  const checks = rp.checks.get(state);
  if (!checks) throw new Error(`no authorization with state ${state}`);
  const tokens = await client.authorizationCodeGrant(rp.config, url, {
    pkceCodeVerifier: checks.verifier,
    expectedState: state,
    expectedNonce: checks.nonce,
    idTokenExpected: true,
  });
  return tokensOut(tokens);
}

async function userinfo(params) {
  const rp = rpOf(params);
  const expected = params.subject ?? client.skipSubjectCheck;
  return { userinfo: await client.fetchUserInfo(rp.config, need(params, 'accessToken', 'string'), expected) };
}

async function refresh(params) {
  const rp = rpOf(params);
  return tokensOut(await client.refreshTokenGrant(rp.config, need(params, 'refreshToken', 'string')));
}

async function revoke(params) {
  const rp = rpOf(params);
  const extra = params.hint ? { token_type_hint: params.hint } : {};
  await client.tokenRevocation(rp.config, need(params, 'token', 'string'), extra);
  return {};
}

async function introspect(params) {
  const rp = rpOf(params);
  return { introspection: await client.tokenIntrospection(rp.config, need(params, 'token', 'string')) };
}

async function endSession(params) {
  const rp = rpOf(params);
  const query = {};
  for (const [name, key] of [
    ['id_token_hint', 'idTokenHint'],
    ['post_logout_redirect_uri', 'postLogoutRedirectUri'],
    ['state', 'state'],
  ]) {
    if (params[key]) query[name] = params[key];
  }
  return { url: client.buildEndSessionUrl(rp.config, query).href };
}

// openid-client's errors carry the OAuth `error` code; keep it in the message the tests match.
// A 401 comes as a WWW-Authenticate challenge error, its code in the challenge's parameters.
export function describeError(err) {
  if (!err?.code && !err?.error) return String(err?.message ?? err);
  const challenge = Array.isArray(err.cause) ? err.cause[0]?.parameters : undefined;
  const error = err.error ?? challenge?.error;
  const parts = [err.code, error, err.error_description ?? challenge?.error_description ?? err.message];
  return parts.filter(Boolean).join(': ');
}

// openid-client stops at a 401's WWW-Authenticate challenge (keyfob's `Basic realm="keyfob"`
// carries no error code) without reading the body: read it, so the RFC 6749 error shows.
function withErrorBody(op) {
  return async (params) => {
    try {
      return await op(params);
    } catch (err) {
      if (err?.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && err.response && !err.error) {
        const body = await err.response.json().catch(() => ({}));
        err.error = body.error;
        err.error_description = body.error_description;
      }
      throw err;
    }
  };
}

export const OIDC_OPS = Object.fromEntries(
  Object.entries({
    'oidc.makeKey': makeKey,
    'oidc.discover': discover,
    'oidc.authorize': authorize,
    'oidc.callback': callback,
    'oidc.userinfo': userinfo,
    'oidc.refresh': refresh,
    'oidc.revoke': revoke,
    'oidc.introspect': introspect,
    'oidc.endSession': endSession,
  }).map(([name, op]) => [name, withErrorBody(op)]),
);
