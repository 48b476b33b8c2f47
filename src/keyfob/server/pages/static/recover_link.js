// A recovery link carries its token in the fragment (#...), which browsers never send to a
// server: no access log or proxy sees it. Take it from there, out of the address bar and the
// history, and let the form post it when the user confirms. Needs passkey.js (kf.t).
(() => {
  "use strict";
  const t = window.keyfob.t; // passkey.js, loaded first
  const form = document.getElementById("link-form");
  const status = document.getElementById("link-status");
  if (!form) return;
  const token = location.hash.slice(1);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  if (!token) {
    if (!document.getElementById("link-error")) {
      status.textContent = t(
        "This link has no secret part (after #): open the whole link you were given."
      );
      status.classList.add("error");
    }
    return;
  }
  form.elements.token.value = token;
  form.querySelector("button").disabled = false;
})();
