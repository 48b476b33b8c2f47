// Produces tests/vectors/solana/solana_siws.json: Sign-In With Solana messages built by the wallet
// standard's own formatter and signed with plain Ed25519 over their UTF-8 bytes, as a wallet does.
//
//   mkdir /tmp/siws && cd /tmp/siws && npm init -y
//   npm install @solana/wallet-standard-util@1.1.2 @noble/curves@2.4.0 bs58@6.0.0
//   node /path/to/make_solana_vector.mjs > solana_siws.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSignInMessageText, verifySignIn } from '@solana/wallet-standard-util';
import { ed25519 } from '@noble/curves/ed25519.js';
import bs58 from 'bs58';

// Run from the directory holding node_modules (some packages do not export package.json).
const version = (name) =>
  JSON.parse(readFileSync(join(process.cwd(), 'node_modules', name, 'package.json'), 'utf8')).version;

// RFC 8032 section 7.1 TEST 1 and TEST 2 secret keys: fixed, public, recognisable.
const SEEDS = [
  '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
];

const INPUTS = [
  {
    name: 'full',
    seed: 0,
    input: {
      domain: 'localhost:8000',
      statement: 'Sign in to keyfob.',
      uri: 'http://localhost:8000',
      version: '1',
      chainId: 'mainnet',
      nonce: 'k3yf0bN0nce12345',
      issuedAt: '2025-06-01T12:00:00.000Z',
      expirationTime: '2025-06-01T12:10:00.000Z',
      notBefore: '2025-06-01T12:00:00.000Z',
      requestId: 'req-42',
      resources: ['https://localhost:8000/terms', 'ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq'],
    },
  },
  {
    name: 'minimal',
    seed: 1,
    input: {
      domain: 'keyfob.example.com',
      uri: 'https://keyfob.example.com/login',
      version: '1',
      nonce: 'abcdef0123456789',
      issuedAt: '2025-06-01T12:00:00Z',
    },
  },
  {
    name: 'unicode_statement',
    seed: 0,
    input: {
      domain: 'localhost:8000',
      statement: 'Willkommen bei keyfob \u2013 sign in \u2713',
      uri: 'http://localhost:8000/',
      version: '1',
      chainId: 'devnet',
      nonce: 'Zx9Yw8Vu7Ts6Rq5P',
      issuedAt: '2025-06-01T12:00:00.000Z',
      expirationTime: '2025-06-01T12:05:00.000Z',
    },
  },
];

const vectors = INPUTS.map(({ name, seed, input: partial }) => {
  const secretKey = Uint8Array.from(Buffer.from(SEEDS[seed], 'hex'));
  const publicKey = ed25519.getPublicKey(secretKey);
  const input = { ...partial, address: bs58.encode(publicKey) };
  const message = createSignInMessageText(input);
  const signedMessage = new TextEncoder().encode(message);
  const signature = ed25519.sign(signedMessage, secretKey);
  const output = { account: { address: input.address, publicKey }, signedMessage, signature };
  if (!verifySignIn(input, output)) throw new Error(`verifySignIn rejected vector ${name}`);
  return {
    name,
    input,
    secretKey: SEEDS[seed],
    publicKey: Buffer.from(publicKey).toString('hex'),
    address: input.address,
    message,
    signatureBase58: bs58.encode(signature),
    signatureHex: Buffer.from(signature).toString('hex'),
    verifySignIn: true,
  };
});

const source =
  `tests/vectors/solana/make_solana_vector.mjs on Node ${process.versions.node}: ` +
  `@solana/wallet-standard-util ${version('@solana/wallet-standard-util')} createSignInMessageText ` +
  `(self-checked with its verifySignIn), @noble/curves ${version('@noble/curves')} ed25519.sign, ` +
  `bs58 ${version('bs58')}`;
process.stdout.write(JSON.stringify({ source, vectors }, null, 1) + '\n');
