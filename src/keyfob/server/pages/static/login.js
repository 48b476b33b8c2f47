// The sign-in page: passkey (button and autofill) and wallets; on success the server has set
// the SSO cookie and says where to go next.
"use strict";
(function () {
  const kf = window.keyfob;
  const t = kf.t;
  const page = document.getElementById("page");
  const form = document.getElementById("passkey-form");
  const button = document.getElementById("passkey-button");
  const username = document.getElementById("username");
  let autofill = null;

  async function finish(url, body) {
    const done = await kf.postJSON(url, Object.assign(kf.target(page), body));
    kf.showStatus(t("Signed in; returning…"), "ok");
    window.location.assign(done.next);
  }

  async function passkey(mediation) {
    const name = mediation ? "" : username.value.trim();
    const json = await kf
      .postJSON(page.dataset.optionsUrl, name ? { username: name } : {})
      .catch(kf.blame(username));
    const request = { publicKey: kf.requestOptions(json) };
    if (mediation) {
      autofill = new AbortController();
      request.mediation = "conditional";
      request.signal = autofill.signal;
    }
    const credential = await navigator.credentials.get(request);
    if (!credential) throw new Error(t("No passkey was chosen."));
    kf.showStatus(t("Checking your passkey…"));
    await finish(page.dataset.passkeyUrl, { credential: kf.credentialJSON(credential) });
  }

  async function startAutofill() {
    const check = window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable;
    if (!check || !(await PublicKeyCredential.isConditionalMediationAvailable())) return;
    try {
      await passkey(true);
    } catch (error) {
      if (error && error.name !== "AbortError") kf.showStatus(kf.explain(error), "error");
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!kf.supported) {
      kf.showStatus(t("This browser does not support passkeys."), "error");
      return;
    }
    if (autofill) autofill.abort();
    button.disabled = true;
    kf.markInvalid(username, false);
    kf.showStatus(t("Waiting for your passkey…"));
    try {
      await passkey(false);
    } catch (error) {
      kf.showStatus(kf.explain(error), "error");
      button.disabled = false;
      if (error && error.field) kf.markInvalid(error.field, true);
    }
  });

  async function withWallet(trigger, run) {
    trigger.disabled = true;
    kf.showStatus(t("Waiting for your wallet…"));
    try {
      await finish(page.dataset.walletUrl, await run());
    } catch (error) {
      kf.showStatus((error && error.message) || t("The wallet refused."), "error");
      trigger.disabled = false;
    }
  }

  const section = document.getElementById("wallets");
  const eth = document.getElementById("wallet-ethereum");
  const nimiq = document.getElementById("wallet-nimiq");
  const solanaBox = document.getElementById("wallet-solana");
  const w = kf.wallets;

  function showWallets() {
    eth.hidden = !w.hasEthereum();
    nimiq.hidden = !w.hasNimiq();
    solanaBox.replaceChildren();
    for (const wallet of w.solanaWallets()) {
      const solButton = document.createElement("button");
      solButton.type = "button";
      solButton.className = "button secondary";
      solButton.textContent = t("Sign in with Solana ({name})", { name: wallet.name });
      solButton.addEventListener("click", () => withWallet(solButton, () => w.solana(wallet)));
      solanaBox.appendChild(solButton);
    }
    section.hidden = eth.hidden && nimiq.hidden && !solanaBox.children.length;
  }

  eth.addEventListener("click", () => withWallet(eth, w.ethereum));
  nimiq.addEventListener("click", () => withWallet(nimiq, () => w.nimiq(page.dataset.appName)));
  w.onSolanaWallets(showWallets);
  showWallets();
  if (kf.supported) startAutofill();
})();
