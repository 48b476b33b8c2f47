// Produces tests/vectors/nimiq/nimiq_login.json: keyfob's Nimiq sign-in messages (and one seed-000
// challenge string) signed exactly as Nimiq's Keyguard `signMessage` does, with @nimiq/core:
// Signature.create(key, SHA-256("\x16Nimiq Signed Message:\n" + UTF-8 byte length + message)).
//
//   mkdir /tmp/nimiqvec && cd /tmp/nimiqvec && npm init -y && npm install @nimiq/core@2.21.0
//   node /path/to/make_nimiq_vector.mjs > nimiq_login.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Nimiq from '@nimiq/core';

const KEYS = {
  // Nimiq Keyguard's own test key, and the private key 0x..01 of fixed_vector.json beside this script.
  keyguard: '682df035c30e8c55bda4ab517213792c2af4b4e9c23ac2cf11bd28b237a6544e',
  one: '0000000000000000000000000000000000000000000000000000000000000001',
};

const MESSAGES = [
  {
    name: 'login_unicode_statement',
    key: 'keyguard',
    message:
      'localhost:8000 wants you to sign in with your Nimiq account:\n' +
      'NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U\n\n' +
      'Willkommen \u2013 Anmeldung bei keyfob \u2713\n\n' +
      'URI: http://localhost:8000\nVersion: 1\nNonce: n1mIqN0nce2025ab\n' +
      'Issued At: 2025-06-01T12:00:00.000Z\nExpiration Time: 2025-06-01T12:10:00.000Z',
  },
  {
    name: 'login_resources',
    key: 'one',
    message:
      'keyfob.example.com wants you to sign in with your Nimiq account:\n' +
      'NQ31 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRY\n\n' +
      'URI: https://keyfob.example.com/login\nVersion: 1\nNonce: 0123456789abcdef\n' +
      'Issued At: 2025-06-01T12:00:00.000Z\nExpiration Time: 2025-06-01T12:10:00.000Z\n' +
      'Resources:\n- https://keyfob.example.com/terms',
  },
  {
    // Seed 000: the Keyguard signs the server's challenge JWT text itself.
    name: 'challenge_jwt',
    key: 'one',
    message:
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' +
      'eyJjaGFsbGVuZ2UiOiJrM3lmMGIiLCJleHAiOjE3NDg3Nzk1MDB9.' +
      'c2lnbmF0dXJlLW5vdC1jaGVja2VkLWhlcmU',
  },
];

const hex = (bytes) => Buffer.from(bytes).toString('hex');

const vectors = MESSAGES.map(({ name, key, message }) => {
  const privateKey = Nimiq.PrivateKey.fromHex(KEYS[key]);
  const publicKey = Nimiq.PublicKey.derive(privateKey);
  const data = new TextEncoder().encode(message);
  const prefixed = new Uint8Array([
    ...new TextEncoder().encode(`\x16Nimiq Signed Message:\n${data.byteLength}`),
    ...data,
  ]);
  const hash = Nimiq.Hash.computeSha256(prefixed);
  const signature = Nimiq.Signature.create(privateKey, publicKey, hash);
  if (!publicKey.verify(signature, hash)) throw new Error(`self-verify failed for ${name}`);
  return {
    name,
    privateKey: KEYS[key],
    publicKey: publicKey.toHex(),
    address: publicKey.toAddress().toUserFriendlyAddress(),
    message,
    digest: hex(hash),
    signature: signature.toHex(),
  };
});

const core = JSON.parse(
  readFileSync(join(process.cwd(), 'node_modules', '@nimiq', 'core', 'package.json'), 'utf8'),
).version;
const source =
  `tests/vectors/nimiq/make_nimiq_vector.mjs on Node ${process.versions.node}: ` +
  `@nimiq/core ${core} PublicKey.derive, Hash.computeSha256, Signature.create (Keyguard signMessage)`;
process.stdout.write(JSON.stringify({ source, vectors }, null, 1) + '\n');
