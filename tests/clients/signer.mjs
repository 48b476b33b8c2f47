// Real wallet client libraries, driven over a line protocol so the Python tests sign in the way
// real wallets do (never with hand-made signatures).
//
// Protocol: one JSON request per line on stdin, {"seq": any, "op": "...", ...params}; one JSON
// response per line on stdout, {"seq": same, "ok": true, ...result} or {"seq": same, "ok": false,
// "error": "..."}. (`seq`, not `id`: session keys use `id` as a parameter and a result.)
// Anything a library logs goes to stderr, so stdout carries responses only.
// Requests are handled one at a time, in order.

import { webcrypto, createPrivateKey, createPublicKey, sign as nodeSign } from 'node:crypto';
import { createInterface } from 'node:readline';
import { OIDC_OPS, describeError } from './oidc_rp.mjs';

// Libraries (Nimiq's worker threads included) may log; keep stdout for the protocol alone.
const protocolOut = process.stdout.write.bind(process.stdout);
console.log = console.info = console.debug = console.warn = console.error;

const [{ createSiweMessage }, { privateKeyToAccount }, { SiweMessage }, { Wallet }, Nimiq, solana, bs58] =
  await Promise.all([
    import('viem/siwe'),
    import('viem/accounts'),
    import('siwe'),
    import('ethers'),
    import('@nimiq/core'),
    import('@solana/wallet-standard-util'),
    import('bs58').then((m) => m.default),
  ]);

const subtle = webcrypto.subtle;
const sessionKeys = new Map(); // id -> {alg, privateKey}

function need(params, name, type) {
  const value = params[name];
  if (typeof value !== type) throw new Error(`${name}: expected ${type}, got ${typeof value}`);
  return value;
}

function hexToBytes(hex, name, length) {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length !== length * 2) {
    throw new Error(`${name}: expected ${length} bytes of hex`);
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

const toHex = (bytes) => Buffer.from(bytes).toString('hex');
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

function ethPrivateKey(params) {
  return '0x' + toHex(hexToBytes(need(params, 'privateKey', 'string'), 'privateKey', 32));
}

function siweFields(params) {
  const fields = params.fields;
  if (typeof fields !== 'object' || fields === null) throw new Error('fields: expected object');
  for (const name of ['domain', 'uri', 'nonce']) need(fields, name, 'string');
  need(fields, 'chainId', 'number');
  return fields;
}

// Drop absent optional fields so each library applies its own defaults.
function defined(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null));
}

const dateOrUndefined = (value) => (value == null ? undefined : new Date(value));

async function viemSiwe(params) {
  const account = privateKeyToAccount(ethPrivateKey(params));
  const f = siweFields(params);
  const message = createSiweMessage(
    defined({
      address: account.address,
      chainId: f.chainId,
      domain: f.domain,
      nonce: f.nonce,
      uri: f.uri,
      version: '1',
      issuedAt: dateOrUndefined(f.issuedAt),
      expirationTime: dateOrUndefined(f.expirationTime),
      notBefore: dateOrUndefined(f.notBefore),
      statement: f.statement,
      resources: f.resources,
      requestId: f.requestId,
      scheme: f.scheme,
    }),
  );
  const signature = await account.signMessage({ message });
  return { message, signature, address: account.address };
}

async function viemSignMessage(params) {
  const account = privateKeyToAccount(ethPrivateKey(params));
  const signature = await account.signMessage({ message: need(params, 'message', 'string') });
  return { signature, address: account.address };
}

async function siwePrepare(params) {
  const wallet = new Wallet(ethPrivateKey(params));
  const f = siweFields(params);
  const message = new SiweMessage(
    defined({
      scheme: f.scheme,
      domain: f.domain,
      address: wallet.address,
      statement: f.statement,
      uri: f.uri,
      version: '1',
      chainId: f.chainId,
      nonce: f.nonce,
      issuedAt: f.issuedAt,
      expirationTime: f.expirationTime,
      notBefore: f.notBefore,
      requestId: f.requestId,
      resources: f.resources,
    }),
  ).prepareMessage();
  const signature = await wallet.signMessage(message);
  return { message, signature, address: wallet.address };
}

async function ethersSignMessage(params) {
  const wallet = new Wallet(ethPrivateKey(params));
  const signature = await wallet.signMessage(need(params, 'message', 'string'));
  return { signature, address: wallet.address };
}

// Keyguard's signMessage: SHA-256 over prefix + decimal byte length + message, then Ed25519.
function nimiqSignMessage(params) {
  const privateKey = Nimiq.PrivateKey.deserialize(
    hexToBytes(need(params, 'privateKey', 'string'), 'privateKey', 32),
  );
  const publicKey = Nimiq.PublicKey.derive(privateKey);
  const msgBytes = new TextEncoder().encode(need(params, 'message', 'string'));
  const prefix = new TextEncoder().encode('\x16Nimiq Signed Message:\n' + msgBytes.byteLength);
  const data = new Uint8Array(prefix.byteLength + msgBytes.byteLength);
  data.set(prefix, 0);
  data.set(msgBytes, prefix.byteLength);
  const hash = Nimiq.Hash.computeSha256(data);
  const signature = Nimiq.Signature.create(privateKey, publicKey, hash);
  return {
    signature: signature.toHex(),
    publicKey: publicKey.toHex(),
    address: publicKey.toAddress().toUserFriendlyAddress(),
  };
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410), so node:crypto can use it.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519FromSeed(seed) {
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { privateKey, publicKey: Uint8Array.from(Buffer.from(jwk.x, 'base64url')) };
}

function solanaSignIn(params) {
  const seed = hexToBytes(need(params, 'secretKey', 'string'), 'secretKey', 32);
  const { privateKey, publicKey } = ed25519FromSeed(seed);
  const address = bs58.encode(publicKey);
  const rawInput = params.input;
  if (typeof rawInput !== 'object' || rawInput === null) throw new Error('input: expected object');
  const input = defined(rawInput);
  const fullInput = { ...input, address: input.address ?? address };
  const text = solana.createSignInMessageText(fullInput);
  const signedMessage = new TextEncoder().encode(text);
  const signature = Uint8Array.from(nodeSign(null, signedMessage, privateKey));
  const output = {
    account: { address, publicKey, chains: [], features: [] },
    signedMessage,
    signature,
    signatureType: 'ed25519',
  };
  return {
    message: text,
    signature: bs58.encode(signature),
    signatureHex: toHex(signature),
    address,
    publicKey: toHex(publicKey),
    selfVerified: solana.verifySignIn(fullInput, output),
  };
}

const WEBCRYPTO_ALGS = {
  Ed25519: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  'P-256': {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
};

async function sessionKey(params) {
  const alg = need(params, 'alg', 'string');
  const spec = WEBCRYPTO_ALGS[alg];
  if (!spec) throw new Error(`alg: unsupported ${alg}`);
  const pair = await subtle.generateKey(spec.generate, true, ['sign', 'verify']);
  const id = webcrypto.randomUUID();
  sessionKeys.set(id, { spec, privateKey: pair.privateKey });
  return { id, publicJwk: await subtle.exportKey('jwk', pair.publicKey) };
}

async function sessionSign(params) {
  const key = sessionKeys.get(need(params, 'id', 'string'));
  if (!key) throw new Error('id: unknown session key');
  const data =
    typeof params.messageBase64url === 'string'
      ? Buffer.from(params.messageBase64url, 'base64url')
      : new TextEncoder().encode(need(params, 'message', 'string'));
  // WebCrypto returns ECDSA signatures as raw r||s (IEEE P1363), not DER.
  const signature = await subtle.sign(key.spec.sign, key.privateKey, data);
  return { signature: b64url(new Uint8Array(signature)) };
}

const OPS = {
  ping: async () => ({ pong: true, node: process.versions.node }),
  'viem.siwe': viemSiwe,
  'viem.signMessage': viemSignMessage,
  'siwe.prepare': siwePrepare,
  'ethers.signMessage': ethersSignMessage,
  'nimiq.signMessage': nimiqSignMessage,
  'solana.signIn': solanaSignIn,
  'webcrypto.sessionKey': sessionKey,
  'webcrypto.sign': sessionSign,
  ...OIDC_OPS,
};

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    return { seq: null, ok: false, error: `bad JSON: ${err.message}` };
  }
  const seq = request?.seq ?? null;
  const op = OPS[request?.op];
  if (!op) return { seq, ok: false, error: `unknown op: ${request?.op}` };
  try {
    return { ...(await op(request)), seq, ok: true };
  } catch (err) {
    return { seq, ok: false, error: describeError(err) };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  protocolOut(JSON.stringify(await handle(line)) + '\n');
}
process.exit(0);
