// The account page: adding a passkey or a wallet, and the step-up every change needs first.
// Every call sends the page's CSRF token in X-CSRF-Token. The step-up grant is an HttpOnly
// cookie the script never sees: the page says how many seconds it has left (data-step-up-left),
// and a 403 step_up_required answer means it ran out. Forms (rename, remove) are posted as
// forms once confirmed. Needs passkey.js (window.keyfob) and wallet.js (window.keyfob.wallets).
"use strict";
(function () {
  const kf = window.keyfob;
  const t = kf.t;
  const w = kf.wallets;
  const root = document.getElementById("account");
  const panel = document.getElementById("step-up");
  const csrf = root.dataset.csrf;
  const MARGIN_MS = 15000; // confirm again rather than race a grant about to expire
  let grantUntil = Date.now() + Number(root.dataset.stepUpLeft || 0) * 1000;
  let choosing = null; // {resolve, reject} while the step-up panel waits for a choice

  function call(url, body) {
    return kf.postJSON(url, body, { "X-CSRF-Token": csrf });
  }

  function confirmed() {
    return Date.now() < grantUntil - MARGIN_MS;
  }

  function stepUpMessage(chain, address) {
    return call("/account/step-up/options", { chain: chain, address: address }).then(
      (challenge) => challenge.message
    );
  }

  const proofs = {
    passkey: async function () {
      if (!kf.supported) throw new Error(t("This browser does not support passkeys."));
      const challenge = await call("/account/step-up/options", {});
      const credential = await navigator.credentials.get({
        publicKey: kf.requestOptions(challenge.options),
      });
      if (!credential) throw new Error(t("No passkey was chosen."));
      return { credential: kf.credentialJSON(credential) };
    },
    ethereum: () => w.ethereum(stepUpMessage),
    nimiq: () => w.nimiq("keyfob", stepUpMessage),
  };

  // Show the panel and wait for the holder to pick a credential (or cancel).
  function choose() {
    panel.hidden = false;
    panel.scrollIntoView({ block: "nearest" });
    return new Promise((resolve, reject) => {
      choosing = { resolve, reject };
    });
  }

  function chosen(prove) {
    if (choosing) choosing.resolve(prove);
    choosing = null;
  }

  async function stepUp() {
    kf.showStatus(t("Confirm it is you to make this change."));
    try {
      for (;;) {
        const prove = await choose();
        try {
          kf.showStatus(t("Waiting for your confirmation…"));
          const granted = await call("/account/step-up/verify", await prove());
          grantUntil = Date.now() + granted.expiresIn * 1000;
          kf.showStatus(t("Confirmed."), "ok");
          return;
        } catch (error) {
          kf.showStatus(kf.explain(error), "error"); // pick again, or cancel
        }
      }
    } finally {
      panel.hidden = true;
    }
  }

  // Run a change, confirming first when the grant is gone (or found gone by the server).
  async function withStepUp(change) {
    if (!confirmed()) await stepUp();
    try {
      return await change();
    } catch (error) {
      if (error.code !== "step_up_required") throw error;
      grantUntil = 0;
      await stepUp();
      return change();
    }
  }

  async function run(trigger, change) {
    trigger.disabled = true;
    try {
      const done = await withStepUp(change);
      kf.showStatus(t("Done; reloading…"), "ok");
      window.location.assign(done.next);
    } catch (error) {
      kf.showStatus(kf.explain(error), "error");
      trigger.disabled = false;
    }
  }

  document.getElementById("step-up-cancel").addEventListener("click", function () {
    if (choosing) choosing.reject(new Error(t("Cancelled: nothing was changed.")));
    choosing = null;
  });
  const passkeyChoice = document.getElementById("step-up-passkey");
  if (passkeyChoice) passkeyChoice.addEventListener("click", () => chosen(proofs.passkey));
  for (const choice of panel.querySelectorAll("[data-step-up-chain]")) {
    const chain = choice.dataset.stepUpChain;
    choice.hidden = !(chain === "ethereum" ? w.hasEthereum() : chain === "nimiq" && w.hasNimiq());
    choice.addEventListener("click", () => chosen(proofs[chain]));
  }

  // Forms: once confirmed, the form is posted as it is (its refusals come back beside it).
  for (const form of document.querySelectorAll("form[data-step-up]")) {
    form.addEventListener("submit", async function (event) {
      if (confirmed()) return;
      event.preventDefault();
      try {
        await stepUp();
      } catch (error) {
        kf.showStatus(kf.explain(error), "error");
        return;
      }
      form.submit();
    });
  }

  const addForm = document.getElementById("add-passkey");
  const addButton = document.getElementById("add-passkey-button");
  addForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!kf.supported) {
      kf.showStatus(t("This browser does not support passkeys."), "error");
      return;
    }
    const name = document.getElementById("new-passkey-name").value.trim();
    run(addButton, async function () {
      const options = await call("/account/passkeys/options", {});
      const credential = await navigator.credentials.create({
        publicKey: kf.creationOptions(options),
      });
      if (!credential) throw new Error(t("No passkey was created."));
      kf.showStatus(t("Saving your new passkey…"));
      const body = { credential: kf.credentialJSON(credential) };
      if (name) body.name = name;
      return call("/account/passkeys/verify", body);
    });
  });

  function link(trigger, sign) {
    run(trigger, async function () {
      kf.showStatus(t("Waiting for the wallet to add…"));
      return call("/account/wallets", await sign());
    });
  }

  const links = document.getElementById("link-wallets");
  const linkEthereum = document.getElementById("link-ethereum");
  const linkNimiq = document.getElementById("link-nimiq");
  const linkSolana = document.getElementById("link-solana");
  const solanaChoices = document.getElementById("step-up-solana");
  const hasSolanaWallet = (root.dataset.walletKinds || "").split(" ").indexOf("solana") >= 0;
  linkEthereum.addEventListener("click", () => link(linkEthereum, () => w.ethereum()));
  linkNimiq.addEventListener("click", () => link(linkNimiq, () => w.nimiq("keyfob")));

  function showWallets() {
    linkEthereum.hidden = !w.hasEthereum();
    linkNimiq.hidden = !w.hasNimiq();
    linkSolana.replaceChildren();
    solanaChoices.replaceChildren();
    for (const wallet of w.solanaWallets()) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary";
      button.textContent = t("Link a Solana wallet ({name})", { name: wallet.name });
      button.addEventListener("click", () => link(button, () => w.solana(wallet)));
      linkSolana.appendChild(button);
      if (!hasSolanaWallet) continue;
      const choice = document.createElement("button");
      choice.type = "button";
      choice.className = "button secondary";
      choice.textContent = t("Confirm with your Solana wallet ({name})", { name: wallet.name });
      choice.addEventListener("click", () => chosen(() => w.solana(wallet, stepUpMessage)));
      solanaChoices.appendChild(choice);
    }
    links.hidden = linkEthereum.hidden && linkNimiq.hidden && !linkSolana.children.length;
  }

  w.onSolanaWallets(showWallets);
  showWallets();
})();
