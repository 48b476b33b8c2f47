// keyfob.js: a browser client for keyfob's JSON API. An ES module with no dependencies, served
// by keyfob at /static/keyfob.js (or copied into an app). docs/browser-client.md documents it.
//
//   import { createKeyfob } from "https://auth.example.com/static/keyfob.js";
//   const keyfob = createKeyfob({ baseUrl: "https://auth.example.com" });
//   await keyfob.signInWithWallet(window.ethereum);      // or signInWithPasskey()
//   const me = await keyfob.fetch("https://auth.example.com/auth/me").then((r) => r.json());
//   await keyfob.logout();

const encoder = new TextEncoder();

/** A refusal from keyfob: `code` is its stable error code, `status` the HTTP status. */
export class KeyfobError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "KeyfobError";
    this.status = status;
    this.code = code;
  }
}

/** The default token storage: this tab's memory, gone with the page. */
export function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
  };
}

const bearer = (token) => ({ Authorization: `Bearer ${token}` });

function hexOf(text) {
  return "0x" + Array.from(encoder.encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytesOf(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

function base64urlOf(buffer) {
  const binary = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// WebAuthn's JSON forms: the browser's own helpers where it has them, else by hand.
const withId = (item) => ({ ...item, id: bytesOf(item.id) });

function requestOptions(json) {
  const PKC = globalThis.PublicKeyCredential;
  if (typeof PKC.parseRequestOptionsFromJSON === "function") {
    return PKC.parseRequestOptionsFromJSON(json);
  }
  const allowCredentials = (json.allowCredentials || []).map(withId);
  return { ...json, challenge: bytesOf(json.challenge), allowCredentials };
}

function creationOptions(json) {
  const PKC = globalThis.PublicKeyCredential;
  if (typeof PKC.parseCreationOptionsFromJSON === "function") {
    return PKC.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: bytesOf(json.challenge),
    user: { ...json.user, id: bytesOf(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map(withId),
  };
}

function credentialJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: base64urlOf(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = base64urlOf(r.attestationObject);
    response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  }
  if (r.authenticatorData) response.authenticatorData = base64urlOf(r.authenticatorData);
  if (r.signature) response.signature = base64urlOf(r.signature);
  if (r.userHandle) response.userHandle = base64urlOf(r.userHandle);
  return {
    id: credential.id,
    rawId: base64urlOf(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

/**
 * A client of the keyfob at `baseUrl` (its KEYFOB_PUBLIC_URL). `storage` keeps the tokens:
 * memory by default, or `sessionStorage` / `localStorage` (shared by every tab, which then
 * share one session and one refresh at a time). `fetch` is the function requests go through.
 */
export function createKeyfob({ baseUrl, storage = memoryStorage(), fetch: send } = {}) {
  if (!baseUrl) throw new TypeError("createKeyfob needs baseUrl, keyfob's public URL");
  const origin = new URL(baseUrl).origin;
  const http = send || globalThis.fetch.bind(globalThis);
  const key = `keyfob:${origin}`;
  const listeners = { signin: new Set(), signout: new Set(), tokens: new Set() };
  let flight = null; // this tab's refresh under way, which every caller joins

  function emit(event, value) {
    for (const listener of listeners[event]) {
      try {
        listener(value);
      } catch (error) {
        globalThis.reportError ? globalThis.reportError(error) : console.error(error);
      }
    }
  }

  function on(event, listener) {
    listeners[event].add(listener);
    return () => listeners[event].delete(listener);
  }

  // The tokens in storage, parsed once per change: the same object until they change (React's
  // useSyncExternalStore, for one, needs that of keyfob.user).
  let raw = null;
  let parsed = null;
  function read() {
    const stored = storage.getItem(key);
    if (stored !== raw) {
      raw = stored;
      try {
        parsed = JSON.parse(stored || "null");
      } catch {
        parsed = null;
      }
    }
    return parsed;
  }

  function keep(tokens) {
    storage.setItem(key, JSON.stringify(tokens));
    emit("tokens", tokens);
  }

  function signedOut(reason) {
    if (read() === null) return;
    storage.removeItem(key);
    emit("signout", reason);
  }

  async function post(path, body) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const response = await http(origin + path, {
      method: "POST",
      headers,
      body: JSON.stringify(body || {}),
    });
    const answer = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const code = (answer && answer.error) || `http_${response.status}`;
      const message = (answer && answer.message) || `keyfob answered ${response.status}.`;
      throw new KeyfobError(response.status, code, message);
    }
    return answer;
  }

  function signedIn(tokens) {
    keep(tokens);
    emit("signin", tokens.user);
    return tokens.user;
  }

  async function signInWithSignature({ chain, address, chainId, sign }) {
    const asked = { chain, address };
    if (chainId) asked.chainId = chainId;
    const { message } = await post("/auth/nonce", asked);
    const signed = await sign(message);
    const proof = typeof signed === "string" ? { signature: signed } : signed;
    return signedIn(await post("/auth/login", { chain, message, ...proof }));
  }

  async function signInWithWallet(provider, { chain = "ethereum", chainId } = {}) {
    if (chain !== "ethereum") {
      throw new TypeError("An EIP-1193 provider signs for Ethereum; use signInWithSignature");
    }
    const [address] = await provider.request({ method: "eth_requestAccounts" });
    if (!address) throw new KeyfobError(0, "no_account", "The wallet shared no account.");
    const sign = (message) =>
      provider.request({ method: "personal_sign", params: [hexOf(message), address] });
    return signInWithSignature({ chain, address, chainId, sign });
  }

  async function signInWithPasskey({ username, mediation, signal } = {}) {
    const options = await post("/auth/passkey/login/options", username ? { username } : {});
    const asked = { publicKey: requestOptions(options) };
    if (mediation) asked.mediation = mediation;
    if (signal) asked.signal = signal;
    const credential = await navigator.credentials.get(asked);
    const verified = { credential: credentialJSON(credential) };
    return signedIn(await post("/auth/passkey/login/verify", verified));
  }

  async function registerPasskey({ username, signal } = {}) {
    const options = await post("/auth/passkey/register/options", username ? { username } : {});
    const asked = { publicKey: creationOptions(options) };
    if (signal) asked.signal = signal;
    const credential = await navigator.credentials.create(asked);
    const verified = { credential: credentialJSON(credential) };
    return signedIn(await post("/auth/passkey/register/verify", verified));
  }

  // One refresh at a time across this origin's tabs: a Web Lock, and inside it a second look,
  // so a refresh token another tab or call already spent is not sent again. Storage reaches
  // other tabs a moment after the lock does, so a tab that refreshed also holds, for a while, a
  // lock named after the token it spent: a tab that finds that lock waits for the new tokens.
  const locks = globalThis.navigator && navigator.locks;
  const lockName = `keyfob-refresh ${origin}`;
  const spentLock = (spent) => `${lockName} spent ${spent.slice(-16)}`;

  function markSpent(spent) {
    return new Promise((granted) => {
      locks.request(spentLock(spent), () => {
        granted();
        return new Promise((release) => setTimeout(release, 30000));
      });
    });
  }

  async function isSpent(spent) {
    const { held } = await locks.query();
    return held.some((lock) => lock.name === spentLock(spent));
  }

  // The tokens that replace `spent` once they reach this tab's storage (null: none in 5 s).
  function newerThan(spent) {
    return new Promise((resolve) => {
      const check = () => {
        const tokens = read();
        if (tokens === null || tokens.refreshToken !== spent) done(tokens);
      };
      const done = (tokens) => {
        clearTimeout(timer);
        globalThis.removeEventListener("storage", check);
        resolve(tokens);
      };
      const timer = setTimeout(() => done(null), 5000);
      globalThis.addEventListener("storage", check);
      check();
    });
  }

  async function renewHolding(spent) {
    const current = read();
    if (current === null) return null;
    if (current.refreshToken !== spent) return current;
    if (locks && (await isSpent(spent))) return newerThan(spent);
    let tokens;
    try {
      tokens = await post("/auth/refresh", { refreshToken: spent });
    } catch (error) {
      if (!(error instanceof KeyfobError)) throw error;
      // A tab without Web Locks raced us and won: its tokens are on their way.
      if (error.code === "refresh_token_superseded") return newerThan(spent);
      if (error.status === 401) signedOut(error.code);
      return null;
    }
    keep(tokens);
    if (locks) await markSpent(spent);
    return tokens;
  }

  function renew(spent) {
    if (flight === null) {
      const task = () => renewHolding(spent);
      flight = (locks ? locks.request(lockName, task) : task()).finally(() => {
        flight = null;
      });
    }
    return flight;
  }

  async function authorized(attempt) {
    const tokens = read();
    const response = await attempt(tokens);
    if (response.status !== 401 || tokens === null) return response;
    const renewed = await renew(tokens.refreshToken);
    return renewed ? attempt(renewed) : response;
  }

  function withBearer(init, token) {
    if (!token) return init;
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${token}`);
    return { ...init, headers };
  }

  // keyfob's own endpoints take the account token, every other origin gets the access token
  // (the account token must never reach an app).
  function authFetch(url, init = {}) {
    const target = new URL(url, globalThis.location && location.href);
    const field = target.origin === origin ? "accountToken" : "accessToken";
    return authorized((tokens) => http(target, withBearer(init, tokens && tokens[field])));
  }

  async function logout() {
    if (read() === null) return false;
    let ended = false;
    const end = (tokens) =>
      http(`${origin}/auth/logout`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...bearer(tokens.accountToken) },
        body: JSON.stringify({ refreshToken: tokens.refreshToken }),
      });
    try {
      ended = (await authorized(end)).status === 204;
    } catch {
      // Unreachable: the tokens are forgotten all the same; keyfob's session then lives on
      // until its refresh token expires, unused.
    }
    signedOut("logout");
    return ended;
  }

  // Another tab changed the shared storage (localStorage): tell this tab's listeners.
  if (globalThis.addEventListener) {
    globalThis.addEventListener("storage", (event) => {
      if (event.storageArea !== storage || event.key !== key) return;
      const tokens = read();
      if (tokens === null) {
        if (event.oldValue !== null) emit("signout", "other_tab");
        return;
      }
      emit("tokens", tokens);
      if (event.oldValue === null) emit("signin", tokens.user);
    });
  }

  return {
    signInWithWallet,
    signInWithPasskey,
    registerPasskey,
    signInWithSignature,
    fetch: authFetch,
    refresh: () => {
      const tokens = read();
      return tokens ? renew(tokens.refreshToken) : Promise.resolve(null);
    },
    logout,
    get user() {
      const tokens = read();
      return tokens ? tokens.user : null;
    },
    tokens: read,
    onSignIn: (listener) => on("signin", listener),
    onSignOut: (listener) => on("signout", listener),
    onTokens: (listener) => on("tokens", listener),
  };
}
