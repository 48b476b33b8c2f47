// The example app: a page on its own origin that signs in with keyfob (a passkey or an
// injected Ethereum wallet), calls keyfob and an API with the tokens, and signs out.
// docs/browser-client.md walks through it.
const setting = (name) => document.querySelector(`meta[name="${name}"]`).content;
const keyfobUrl = setting("keyfob-url");
const apiUrl = setting("api-url");
const $ = (id) => document.getElementById(id);

let createKeyfob;
try {
  // Served by keyfob; a module script from another origin needs keyfob's CORS answer.
  ({ createKeyfob } = await import(`${keyfobUrl}/static/keyfob.js`));
} catch (error) {
  $("status").textContent =
    `Could not load ${keyfobUrl}/static/keyfob.js: is ${location.origin} in KEYFOB_CORS_ORIGINS?`;
  throw error;
}

// sessionStorage: the session survives reloading this tab and ends with it. Leave `storage`
// out to keep tokens in memory only, or pass localStorage to share one session across tabs.
const keyfob = createKeyfob({ baseUrl: keyfobUrl, storage: sessionStorage });

function name(user) {
  const wallet = user.identities.find((identity) => identity.chain !== "passkey");
  return user.username || (wallet && wallet.address) || user.id;
}

function show(user) {
  $("signed-out").hidden = Boolean(user);
  $("signed-in").hidden = !user;
  $("wallet").hidden = !window.ethereum;
  $("who").textContent = user ? name(user) : "";
  if (!user) $("output").textContent = "";
}

async function run(doing, action) {
  $("status").textContent = doing;
  try {
    await action();
    $("status").textContent = keyfob.user ? "Signed in." : "Signed out.";
  } catch (error) {
    $("status").textContent = `Failed: ${error.message}`;
  }
}

async function showAnswer(response) {
  const body = await response.text();
  $("output").textContent = `${response.status}\n${body}`;
}

keyfob.onSignIn(show);
keyfob.onSignOut(() => show(null));

$("wallet").addEventListener("click", () =>
  run("Waiting for the wallet…", () => keyfob.signInWithWallet(window.ethereum)),
);
$("passkey").addEventListener("click", () =>
  run("Waiting for the passkey…", () => keyfob.signInWithPasskey()),
);
$("register").addEventListener("submit", (event) => {
  event.preventDefault();
  const username = new FormData(event.target).get("username");
  run("Creating the passkey…", () => keyfob.registerPasskey({ username }));
});
// keyfob.fetch adds the right token (the account token for keyfob, the access token for
// everyone else) and, on a 401, refreshes the tokens once and tries again.
$("me").addEventListener("click", () =>
  run("Asking keyfob…", async () => showAnswer(await keyfob.fetch(`${keyfobUrl}/auth/me`))),
);
$("api").addEventListener("click", () =>
  run("Calling the API…", async () => showAnswer(await keyfob.fetch(`${apiUrl}/items`))),
);
$("logout").addEventListener("click", () => run("Signing out…", () => keyfob.logout()));

show(keyfob.user);
$("status").textContent = keyfob.user ? "Signed in." : "Signed out.";
