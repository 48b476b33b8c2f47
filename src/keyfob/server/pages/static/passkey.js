// WebAuthn helpers shared by the hosted pages: JSON options <-> browser objects, JSON posts,
// the status line (an aria-live region) and t(), the page's translations. Exposed as
// window.keyfob.
"use strict";
(function () {
  // The page's language: <script type="application/json" id="keyfob-strings"> maps each
  // English string to its translation (absent on an English page). t() looks a string up and
  // fills its {name} placeholders; a string it lacks stays English.
  const strings = (function () {
    const block = document.getElementById("keyfob-strings");
    try {
      return block ? JSON.parse(block.textContent) : {};
    } catch (error) {
      return {};
    }
  })();

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function t(text, values) {
    const translated = has(strings, text) ? strings[text] : text;
    return translated.replace(/\{(\w+)\}/g, (whole, name) =>
      values && has(values, name) ? String(values[name]) : whole
    );
  }

  // A server error's sentence in the page's language: its translation, else the general
  // sentence of its code ("error:<code>"; a sentence with a name or number in it is in no
  // catalog), else as the server wrote it.
  function serverMessage(answer) {
    if (has(strings, answer.message)) return strings[answer.message];
    const general = "error:" + answer.error;
    return answer.error && has(strings, general) ? strings[general] : answer.message;
  }

  function b64urlToBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function bytesToB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map((item) => Object.assign({}, item, { id: b64urlToBytes(item.id) }));
  }

  function creationOptions(json) {
    const options = Object.assign({}, json);
    options.challenge = b64urlToBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: b64urlToBytes(json.user.id) });
    options.excludeCredentials = withIds(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    const options = Object.assign({}, json);
    options.challenge = b64urlToBytes(json.challenge);
    options.allowCredentials = withIds(json.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const r = credential.response;
    const response = { clientDataJSON: bytesToB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = bytesToB64url(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    }
    if (r.authenticatorData) response.authenticatorData = bytesToB64url(r.authenticatorData);
    if (r.signature) response.signature = bytesToB64url(r.signature);
    if (r.userHandle) response.userHandle = bytesToB64url(r.userHandle);
    return {
      id: credential.id,
      rawId: bytesToB64url(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  // POST ``body`` as JSON (with ``headers`` besides, e.g. a CSRF token); the answer, or an
  // Error carrying the server's sentence (in the page's language) and its ``code``.
  async function postJSON(url, body, headers) {
    const response = await fetch(url, {
      method: "POST",
      headers: Object.assign(
        { "Content-Type": "application/json", Accept: "application/json" }, headers),
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = null;
    }
    if (!response.ok) {
      const message = answer && answer.message ? serverMessage(answer) : t("The request failed.");
      const failure = new Error(message);
      failure.code = answer && answer.error;
      throw failure;
    }
    return answer;
  }

  function showStatus(message, kind) {
    const status = document.getElementById("status");
    status.textContent = message;
    status.className = "status" + (kind ? " " + kind : "");
  }

  function explain(error) {
    if (error && error.name === "NotAllowedError") {
      return t("The passkey request was cancelled or timed out. Try again.");
    }
    if (error && error.name === "InvalidStateError") {
      return t("This device already holds a passkey for this account.");
    }
    return (error && error.message) || t("Something went wrong. Try again.");
  }

  // A call refused with one of these codes names its input as wrong (a malformed or taken
  // username); blame(input) as a call's catch tags its error with the input it sent.
  const FIELD_CODES = ["invalid_request", "conflict"];

  function blame(input) {
    return function (error) {
      if (error && FIELD_CODES.indexOf(error.code) >= 0) error.field = input;
      throw error;
    };
  }

  // Tie the status line's error to ``input`` (aria-invalid, aria-describedby) and focus it;
  // with ``invalid`` false, undo that.
  function markInvalid(input, invalid) {
    const ids = (input.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => id && id !== "status");
    if (invalid) ids.unshift("status");
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
    if (!invalid) {
      input.removeAttribute("aria-invalid");
      return;
    }
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  function target(page) {
    const body = {};
    if (page.dataset.redirectUri) body.redirectUri = page.dataset.redirectUri;
    if (page.dataset.hasState === "yes") body.state = page.dataset.state;
    return body;
  }

  window.keyfob = {
    b64urlToBytes, bytesToB64url, creationOptions, requestOptions, credentialJSON,
    postJSON, showStatus, explain, target, t, serverMessage, blame, markInvalid,
    supported: typeof window.PublicKeyCredential === "function",
  };
})();
