// Account creation (client apps) and admin enrolment: create a passkey, then follow "next".
"use strict";
(function () {
  const kf = window.keyfob;
  const t = kf.t;
  const page = document.getElementById("page");
  const form = document.getElementById("register-form");
  const button = document.getElementById("register-button");
  const username = document.getElementById("username");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!kf.supported) {
      kf.showStatus(t("This browser does not support passkeys."), "error");
      return;
    }
    button.disabled = true;
    kf.markInvalid(username, false);
    kf.showStatus(t("Creating your passkey…"));
    try {
      const request = {};
      const name = username.value.trim();
      if (name) request.username = name;
      if (page.dataset.mode === "enroll") request.token = page.dataset.token;
      const json = await kf.postJSON(page.dataset.optionsUrl, request).catch(kf.blame(username));
      const credential = await navigator.credentials.create({
        publicKey: kf.creationOptions(json),
      });
      if (!credential) throw new Error(t("No passkey was created."));
      const body = { credential: kf.credentialJSON(credential) };
      if (page.dataset.mode !== "enroll") Object.assign(body, kf.target(page));
      const done = await kf.postJSON(page.dataset.verifyUrl, body);
      kf.showStatus(t("Account ready; continuing…"), "ok");
      window.location.assign(done.next);
    } catch (error) {
      kf.showStatus(kf.explain(error), "error");
      button.disabled = false;
      if (error && error.field) kf.markInvalid(error.field, true);
    }
  });
})();
