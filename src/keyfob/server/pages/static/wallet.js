// Wallet sign-in on the hosted pages. Nothing is loaded from other hosts (the CSP forbids it),
// so only wallets already in the page are offered:
//  - Ethereum: an injected EIP-1193 provider (window.ethereum): eth_requestAccounts, personal_sign.
//  - Solana: wallets announcing themselves through the Wallet Standard events, with the
//    "solana:signMessage" feature.
//  - Nimiq: the Hub lives on another host; the button appears only if the operator made a Hub
//    client available in the page as window.NimiqHub (an object with chooseAddress and
//    signMessage, e.g. an instance of @nimiq/hub-api's HubApi served from keyfob's origin).
// Each returns {chain, message, signature[, publicKey]} for the page's wallet endpoint. The
// message is a sign-in message from /auth/nonce, unless the caller passes its own source,
// an async (chain, address) => message (the account page's step-up asks for its own).
"use strict";
(function () {
  const encoder = new TextEncoder();
  const t = window.keyfob.t;

  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function messageFor(chain, address) {
    const issued = await window.keyfob.postJSON("/auth/nonce", { chain: chain, address: address });
    return issued.message;
  }

  async function ethereum(source) {
    const provider = window.ethereum;
    const accounts = await provider.request({ method: "eth_requestAccounts" });
    if (!accounts || !accounts.length) throw new Error(t("The wallet shared no account."));
    const address = accounts[0];
    const message = await (source || messageFor)("ethereum", address);
    const signature = await provider.request({
      method: "personal_sign",
      params: ["0x" + hex(encoder.encode(message)), address],
    });
    return { chain: "ethereum", message: message, signature: signature };
  }

  const solanaWallets = [];
  const solanaListeners = [];

  function register(...wallets) {
    for (const wallet of wallets) {
      const features = wallet.features || {};
      const chains = wallet.chains || [];
      if (!features["solana:signMessage"] || !features["standard:connect"]) continue;
      if (!chains.some((chain) => String(chain).startsWith("solana:"))) continue;
      if (solanaWallets.indexOf(wallet) < 0) solanaWallets.push(wallet);
    }
    solanaListeners.forEach((listener) => listener(solanaWallets.slice()));
    return function unregister() {};
  }

  window.addEventListener("wallet-standard:register-wallet", function (event) {
    if (typeof event.detail === "function") event.detail({ register: register });
  });
  window.dispatchEvent(
    new CustomEvent("wallet-standard:app-ready", { detail: { register: register } })
  );

  async function solana(wallet, source) {
    const connected = await wallet.features["standard:connect"].connect();
    const accounts = (connected && connected.accounts) || wallet.accounts || [];
    const account = accounts[0];
    if (!account) throw new Error(t("The wallet shared no account."));
    const message = await (source || messageFor)("solana", account.address);
    const [signed] = await wallet.features["solana:signMessage"].signMessage({
      account: account,
      message: encoder.encode(message),
    });
    return { chain: "solana", message: message, signature: hex(signed.signature) };
  }

  async function nimiq(appName, source) {
    const hub = window.NimiqHub;
    const chosen = await hub.chooseAddress({ appName: appName });
    const message = await (source || messageFor)("nimiq", chosen.address);
    const signed = await hub.signMessage({ appName: appName, message: message, signer: chosen.address });
    return {
      chain: "nimiq",
      message: message,
      signature: hex(signed.signature),
      publicKey: hex(signed.signerPublicKey),
    };
  }

  window.keyfob.wallets = {
    hasEthereum: () => Boolean(window.ethereum && typeof window.ethereum.request === "function"),
    hasNimiq: () =>
      Boolean(window.NimiqHub && typeof window.NimiqHub.signMessage === "function"),
    solanaWallets: () => solanaWallets.slice(),
    onSolanaWallets: (listener) => solanaListeners.push(listener),
    ethereum: ethereum,
    solana: solana,
    nimiq: nimiq,
  };
})();
