"""Every HTML page keyfob serves, audited by axe-core in Chromium (see tests/server/pages/axe.py),
in the states that matter: a form error shown, a wallet offered, signed in or not.

One keyfob and one browser for the module. :data:`AUDITED` names every route that renders a
page and :data:`NO_PAGE` every other route a browser may reach: a new page route fails
:func:`test_every_page_route_is_audited` until it is audited here (or said to be no page).
Plain sync tests (see tests/browser_fixtures.py): async keyfob calls go through ``live.call``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest

from keyfob.server.infra.app import create_app
from keyfob.server.infra.settings import Settings
from keyfob.server.services.audit import record_event
from keyfob.server.services.clients import create_client
from keyfob.server.services.enrollment import create_enrollment_link
from keyfob.server.services.oidc_clients import configure_oidc
from keyfob.store.records import ClientRecord
from tests.browser_fixtures import (
    PASSKEY_AUTHENTICATOR,
    CallbackApp,
    LiveKeyfob,
    inject_ethereum,
    serve_callback_app,
)
from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, SECRET
from tests.server.infra.test_rate_limit_routes import app_routes
from tests.server.pages.axe import Audit, axe_source

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

ETH_KEY = "0x" + "4c" * 32
# In the page: the focused control's name, aria-invalid and the texts its aria-describedby names.
FOCUSED = """() => {
  const control = document.activeElement;
  const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  return { name: control.name, invalid: control.getAttribute("aria-invalid"),
    described: ids.map((id) => document.getElementById(id).textContent.trim()) };
}"""
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"
# The longest usernames keyfob takes (64 characters).
ADMIN_NAME = "administrator.of.the.identity.server-at-the-north-office@example"
USER_NAME = "maximiliane.konstantinopoulou-vandenberghe+keyfob@mail.example"

Route = tuple[str, str]
# Every route that renders a page, and what of it the audit sees.
AUDITED: dict[Route, str] = {
    ("GET", "/auth/login/{client_id}"): "sign-in (passkey, wallet); no access; form_post",
    ("GET", "/auth/registration/{client_id}"): "registration, with a username refused",
    ("GET", "/auth/logout/{client_id}"): "signed out (a client that requires a state)",
    ("GET", "/oidc/authorize"): "form_post response mode",
    ("GET", "/oidc/login"): "OpenID Connect sign-in",
    ("GET", "/oidc/consent"): "consent",
    ("GET", "/oidc/logout"): "logout confirmation",
    ("POST", "/oidc/logout/confirm"): "signed out",
    ("GET", "/docs"): "Swagger UI",
    ("GET", "/account/login"): "account sign-in",
    ("GET", "/account"): "the account page, signed in",
    ("POST", "/account/recovery-codes"): "new recovery codes, shown once",
    ("GET", "/account/recover"): "recovery sign-in with a code",
    ("POST", "/account/recover"): "recovery sign-in, a code refused",
    ("GET", "/account/recover/link"): "recovery sign-in with an admin's link",
    ("POST", "/admin/users/{user_id}/recovery-link"): "a user's recovery link, shown once",
    ("GET", "/admin/login"): "admin sign-in",
    ("GET", "/admin/enroll"): "admin enrolment",
    ("GET", "/admin/clients"): "client list",
    ("GET", "/admin/clients/new"): "new client form",
    ("POST", "/admin/clients/new"): "the form with an error; the new client's secret",
    ("GET", "/admin/clients/{client_id}"): "a client's form",
    ("POST", "/admin/clients/{client_id}"): "a client's form with an error",
    ("POST", "/admin/clients/{client_id}/rotate"): "the new secret",
    ("GET", "/admin/clients/{client_id}/delete"): "delete confirmation",
    ("GET", "/admin/users"): "user list",
    ("GET", "/admin/users/{user_id}"): "a user",
    ("GET", "/admin/users/{user_id}/delete"): "delete confirmation",
    ("GET", "/admin/settings"): "settings",
    ("POST", "/admin/settings"): "settings with an error",
    ("GET", "/admin/audit"): "audit log",
}
_SCRIPTS = "JSON for the page's scripts"
_REDIRECT = "redirects (its errors: the error page, audited)"
_ACCOUNT_FORM = "redirects (its errors: GET /account's page, the message beside the form)"
# Every other route outside the OpenAPI document (which is JSON throughout), and why it has no
# page of its own to audit.
NO_PAGE: dict[Route, str] = {
    ("GET", "/.well-known/openid-configuration"): "JSON",
    ("GET", "/.well-known/oauth-authorization-server"): "JSON",
    ("GET", "/openapi.json"): "JSON",
    ("GET", "/oidc/userinfo"): "JSON",
    ("POST", "/oidc/userinfo"): "JSON",
    ("POST", "/oidc/token"): "JSON",
    ("POST", "/oidc/revoke"): "JSON",
    ("POST", "/oidc/introspect"): "JSON",
    ("POST", "/oidc/authorize"): "the pages of GET /oidc/authorize",
    ("GET", "/oidc/authorize/continue"): "redirects, or GET /oidc/authorize's form_post page",
    ("POST", "/oidc/consent"): "redirects, or GET /oidc/authorize's form_post page",
    ("POST", "/oidc/logout"): "the pages of GET /oidc/logout",
    ("POST", "/oidc/login/passkey/options"): _SCRIPTS,
    ("POST", "/oidc/login/passkey"): _SCRIPTS,
    ("POST", "/oidc/login/wallet"): _SCRIPTS,
    ("POST", "/auth/login/{client_id}/passkey/options"): _SCRIPTS,
    ("POST", "/auth/login/{client_id}/passkey"): _SCRIPTS,
    ("POST", "/auth/login/{client_id}/wallet"): _SCRIPTS,
    ("POST", "/auth/registration/{client_id}/options"): _SCRIPTS,
    ("POST", "/auth/registration/{client_id}/verify"): _SCRIPTS,
    ("POST", "/account/login/passkey/options"): _SCRIPTS,
    ("POST", "/account/login/passkey"): _SCRIPTS,
    ("POST", "/account/login/wallet"): _SCRIPTS,
    ("POST", "/admin/login/passkey/options"): _SCRIPTS,
    ("POST", "/admin/login/passkey"): _SCRIPTS,
    ("POST", "/admin/login/wallet"): _SCRIPTS,
    ("POST", "/admin/enroll/options"): _SCRIPTS,
    ("POST", "/admin/enroll/verify"): _SCRIPTS,
    ("POST", "/account/sign-out"): _REDIRECT,
    ("POST", "/account/step-up/options"): _SCRIPTS,
    ("POST", "/account/step-up/verify"): _SCRIPTS,
    ("POST", "/account/passkeys/options"): _SCRIPTS,
    ("POST", "/account/passkeys/verify"): _SCRIPTS,
    ("POST", "/account/wallets"): _SCRIPTS,
    ("POST", "/account/passkeys/{identity_id}/rename"): _ACCOUNT_FORM,
    ("POST", "/account/methods/{identity_id}/remove"): _ACCOUNT_FORM,
    ("POST", "/account/sessions/end"): _ACCOUNT_FORM,
    ("POST", "/account/sessions/end-all"): _ACCOUNT_FORM,
    ("POST", "/account/apps/revoke"): _ACCOUNT_FORM,
    ("POST", "/account/recover/link"): "redirects, or GET /account/recover/link's page",
    ("GET", "/static/brand.css"): "a stylesheet (the accent colour), no page",
    ("GET", "/static/extra.css"): "a stylesheet (KEYFOB_EXTRA_CSS), no page",
    ("GET", "/admin"): _REDIRECT,
    ("POST", "/admin/sign-out"): _REDIRECT,
    ("POST", "/admin/clients/{client_id}/delete"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/disable"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/enable"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/delete"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/grant"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/revoke"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/make-admin"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/remove-admin"): _REDIRECT,
    ("POST", "/admin/users/{user_id}/methods/{identity_id}/remove"): _REDIRECT,
}
# Swagger UI's own markup, which keyfob does not write: its operation groups are <h3> under its
# <h1> title (https://github.com/swagger-api/swagger-ui/issues/10703).
SWAGGER_UI_SKIPS = ("heading-order",)


def test_every_page_route_is_audited() -> None:
    """A new route a browser may load fails here until it is audited below or listed in
    NO_PAGE with the reason it has no page."""
    app = create_app(Settings(public_url=PUBLIC_URL, secret_key=SECRET))
    api = {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}
    routes = set(app_routes()) - api
    undecided = sorted(routes - set(AUDITED) - set(NO_PAGE))
    assert not undecided, f"audit these pages in test_axe.py, or say why they are none: {undecided}"
    assert set(AUDITED) | set(NO_PAGE) <= routes, "listed routes the app no longer has"
    assert not set(AUDITED) & set(NO_PAGE)


@pytest.fixture(scope="module")
def rp() -> Iterator[CallbackApp]:
    """One relying party's callback page for the module."""
    with serve_callback_app() as app:
        yield app


def passkey_context(chromium: Browser, axe: Audit) -> BrowserContext:
    """A context whose pages have a virtual passkey authenticator (and no passkey autofill),
    and axe-core loaded."""
    context = chromium.new_context()
    context.add_init_script(NO_AUTOFILL)
    axe.prepare(context)

    def authenticator(page: Page) -> None:
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": PASSKEY_AUTHENTICATOR})

    context.on("page", authenticator)
    return context


def enrol(live: LiveKeyfob, page: Page, username: str) -> None:
    """Enrol an admin with a passkey by a one-time link; the page ends on the client list."""
    now = live.runtime.now()
    link, _ = live.call(create_enrollment_link, live.runtime.store, public_url=live.url, now=now)
    page.goto(link)
    page.get_by_label("Username").fill(username)
    page.get_by_role("button", name="Register admin passkey").click()
    page.wait_for_url(f"{live.url}/admin/clients")


@pytest.fixture(scope="module")
def admin(live: LiveKeyfob, chromium: Browser, axe: Audit) -> Iterator[Page]:
    """A page signed in to the admin panel as an admin with the longest username."""
    context = passkey_context(chromium, axe)
    page = context.new_page()
    enrol(live, page, ADMIN_NAME)
    yield page
    context.close()


@pytest.fixture(scope="module")
def axe() -> Audit:
    """The module's axe-core audit (skips without axe-core)."""
    return Audit(axe_source())


def client(live: LiveKeyfob, rp: CallbackApp, name: str, **options: Any) -> ClientRecord:
    """A client app named ``name`` sending users back to ``rp`` (open to all by default)."""
    values: dict[str, Any] = {
        "registration_enabled": True,
        "open_to_all": True,
        "redirect_uris": [rp.callback_url],
        **options,
    }
    made, _ = live.call(create_client, live.runtime, name=name, **values)
    return made


class Walk:
    """Loads pages and audits each, recording which route it rendered."""

    def __init__(self, live: LiveKeyfob, axe: Audit) -> None:
        self.live, self.axe = live, axe
        self.visited: set[Route] = set()

    def audit(self, page: Page, route: Route, name: str, *, skip: tuple[str, ...] = ()) -> None:
        """Audit ``page`` as ``name``, checking that its URL is ``route``'s."""
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route[1]))
        path = urlsplit(page.url).path
        assert re.fullmatch(pattern, path), f"{name}: {page.url} is not {route}"
        page.wait_for_load_state()
        self.axe.run(page, f"{name} ({route[0]} {path})", skip=skip)
        self.visited.add(route)

    def goto(self, page: Page, route: Route, name: str, url: str, **kwargs: Any) -> None:
        """Load ``url`` (relative to keyfob) and audit it."""
        page.goto(self.live.url + url)
        self.audit(page, route, name, **kwargs)


def authorization(rp: CallbackApp, client_id: str, **extra: str) -> str:
    """An /oidc/authorize URL for ``client_id`` with PKCE."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": rp.callback_url,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        **extra,
    }
    return f"/oidc/authorize?{urlencode(query)}"


def hosted_and_oidc_pages(
    walk: Walk, chromium: Browser, rp: CallbackApp, node_clients: NodeClients
) -> None:
    """The client apps' hosted pages, the OpenID Provider's, the docs and the account page."""
    live = walk.live
    demo = client(live, rp, "Demo App")
    closed = client(live, rp, "Members Only", open_to_all=False)
    posting = client(live, rp, "Form Poster", token_delivery="form_post")
    stateful = client(live, rp, "State Keeper", require_state=True)
    third_party = live.call(configure_oidc, live.runtime, client(live, rp, "Partner").id)
    own = live.call(configure_oidc, live.runtime, client(live, rp, "Own App").id, first_party=True)
    target = urlencode({"redirectUri": rp.callback_url, "state": "s-1"})
    context = passkey_context(chromium, walk.axe)
    inject_ethereum(context, node_clients, ETH_KEY)
    try:
        page = context.new_page()
        login = ("GET", "/auth/login/{client_id}")
        page.goto(f"{live.url}/auth/login/{demo.id}?{target}")
        page.locator("#wallet-ethereum").wait_for()
        walk.audit(page, login, "hosted sign-in, passkey and wallet")

        registration = ("GET", "/auth/registration/{client_id}")
        walk.goto(page, registration, "registration", f"/auth/registration/{demo.id}?{target}")
        page.get_by_label("Username").fill("two words")
        page.get_by_role("button", name="Create account with a passkey").click()
        page.locator("#status.error").wait_for()
        hints = [page.locator(f"#{id}").inner_text() for id in ("status", "username-hint")]
        assert page.evaluate(FOCUSED) == {"name": "username", "invalid": "true", "described": hints}
        walk.audit(page, registration, "registration, username refused")
        page.get_by_label("Username").fill(USER_NAME)
        page.get_by_role("button", name="Create account with a passkey").click()
        page.wait_for_url(rp.callback_url + "?*")

        walk.goto(page, login, "no access", f"/auth/login/{closed.id}?{target}")
        context.route("**/static/form_post.js", lambda route: route.abort())
        walk.goto(page, login, "form_post", f"/auth/login/{posting.id}?{target}")
        own_post = authorization(rp, own.id, response_mode="form_post")
        walk.goto(page, ("GET", "/oidc/authorize"), "OpenID Connect form_post", own_post)
        context.unroute("**/static/form_post.js")

        page.goto(live.url + authorization(rp, third_party.id))
        page.wait_for_url(f"{live.url}/oidc/consent?*")
        walk.audit(page, ("GET", "/oidc/consent"), "consent")
        walk.goto(page, ("GET", "/oidc/logout"), "logout confirmation", "/oidc/logout")
        page.get_by_role("button", name="Sign out", exact=True).click()
        page.wait_for_url(f"{live.url}/oidc/logout/confirm")
        walk.audit(page, ("POST", "/oidc/logout/confirm"), "signed out of keyfob")

        page.goto(live.url + authorization(rp, third_party.id))
        page.wait_for_url(f"{live.url}/oidc/login?*")
        walk.audit(page, ("GET", "/oidc/login"), "OpenID Connect sign-in")
        walk.goto(page, login, "error page", "/auth/login/no-such-client")
        logout = ("GET", "/auth/logout/{client_id}")
        walk.goto(page, logout, "signed out of an app", f"/auth/logout/{stateful.id}")

        page.goto(f"{live.url}/docs")
        page.locator(".opblock").first.wait_for()
        walk.audit(page, ("GET", "/docs"), "API docs", skip=SWAGGER_UI_SKIPS)

        walk.goto(page, ("GET", "/account/login"), "account sign-in", "/account/login")
        page.get_by_role("button", name="Sign in with a passkey").click()
        page.wait_for_url(f"{live.url}/account")
        walk.audit(page, ("GET", "/account"), "account page")
        page.get_by_role("button", name="Generate new codes").click()
        page.get_by_role("heading", name="Confirm it is you").wait_for()
        walk.audit(page, ("GET", "/account"), "account page, confirming a change")
        page.get_by_role("button", name="Confirm with a passkey").click()
        page.locator("#recovery-codes").wait_for()
        walk.audit(page, ("POST", "/account/recovery-codes"), "new recovery codes")
        page.context.clear_cookies()
        walk.goto(page, ("GET", "/account/recover"), "recovery sign-in", "/account/recover")
        page.get_by_label("Username or account id").fill(USER_NAME)
        page.get_by_label("Recovery code").fill("AAAA-BBBB-CCCC-DDDD")
        page.get_by_role("button", name="Sign in with a recovery code").click()
        page.locator(".error").first.wait_for()
        walk.audit(page, ("POST", "/account/recover"), "recovery sign-in, refused")
        route = ("GET", "/account/recover/link")
        walk.goto(page, route, "recovery link", "/account/recover/link")
    finally:
        context.close()


def admin_pages(walk: Walk, chromium: Browser, page: Page) -> None:
    """The admin panel's pages (``page`` is signed in), its enrolment and sign-in pages."""
    live = walk.live
    context = passkey_context(chromium, walk.axe)
    try:
        other = context.new_page()
        now = live.runtime.now()
        link, _ = live.call(
            create_enrollment_link, live.runtime.store, public_url=live.url, now=now
        )
        other.goto(link)
        walk.audit(other, ("GET", "/admin/enroll"), "admin enrolment")
        walk.goto(other, ("GET", "/admin/login"), "admin sign-in", "/admin/login")
    finally:
        context.close()

    walk.goto(page, ("GET", "/admin/clients"), "client list", "/admin/clients")
    walk.goto(page, ("GET", "/admin/clients/new"), "new client", "/admin/clients/new")
    page.get_by_label("Name").fill("Team Wiki")
    page.get_by_label("Redirect URIs, one per line", exact=True).fill("ftp://wiki.example/cb")
    page.get_by_role("button", name="Create client").click()
    page.locator("#form-error").wait_for()
    walk.audit(page, ("POST", "/admin/clients/new"), "new client, refused")
    page.locator("textarea[name=redirect_uris]").fill("https://wiki.example/cb")
    page.get_by_role("button", name="Create client").click()
    page.locator("#client-secret").wait_for()
    walk.audit(page, ("POST", "/admin/clients/new"), "new client's secret")

    page.get_by_role("link", name="Back to the client").click()
    walk.audit(page, ("GET", "/admin/clients/{client_id}"), "a client")
    page.get_by_label("Token lifetime (minutes)", exact=True).fill("soon")
    page.get_by_role("button", name="Save").click()
    page.locator("#form-error").wait_for()
    walk.audit(page, ("POST", "/admin/clients/{client_id}"), "a client, refused")
    page.get_by_role("button", name="Rotate secret").click()
    page.locator("#client-secret").wait_for()
    walk.audit(page, ("POST", "/admin/clients/{client_id}/rotate"), "rotated secret")
    page.get_by_role("link", name="Back to the client").click()
    page.get_by_role("link", name="Delete this client…").click()
    walk.audit(page, ("GET", "/admin/clients/{client_id}/delete"), "delete a client")

    walk.goto(page, ("GET", "/admin/users"), "user list", "/admin/users")
    page.get_by_role("link", name=USER_NAME).click()
    walk.audit(page, ("GET", "/admin/users/{user_id}"), "a user")
    page.get_by_role("button", name="Create recovery link").click()
    walk.audit(page, ("POST", "/admin/users/{user_id}/recovery-link"), "a recovery link")
    page.go_back()
    page.get_by_role("link", name="Delete this user…").click()
    walk.audit(page, ("GET", "/admin/users/{user_id}/delete"), "delete a user")
    walk.goto(page, ("GET", "/admin/users/{user_id}"), "admin error page", "/admin/users/nobody")

    walk.goto(page, ("GET", "/admin/settings"), "settings", "/admin/settings")
    page.get_by_label("Token lifetime (minutes)").fill("0")
    page.get_by_role("button", name="Save").click()
    page.locator("#form-error").wait_for()
    walk.audit(page, ("POST", "/admin/settings"), "settings, refused")
    walk.goto(page, ("GET", "/admin/audit"), "audit log", "/admin/audit")


def test_every_page_has_no_axe_violation(
    live: LiveKeyfob,
    rp: CallbackApp,
    chromium: Browser,
    admin: Page,
    axe: Audit,
    node_clients: NodeClients,
) -> None:
    """Each page of AUDITED, in each state above, passes axe-core (light and dark)."""
    walk = Walk(live, axe)
    hosted_and_oidc_pages(walk, chromium, rp, node_clients)
    admin_pages(walk, chromium, admin)
    assert walk.visited == set(AUDITED)
    if not axe.clean:
        pytest.fail("axe-core found violations:\n" + axe.report(), pytrace=False)


# A field of the client form, a value the server refuses and the start of its error.
REFUSED = [
    ("name", "   ", "A client's name is 1 to 255 characters."),
    ("redirect_uris", "ftp://wiki.example/cb", "The redirect URI 'ftp://wiki.example/cb' must"),
    ("token_lifetime_minutes", "soon", "The token lifetime is a whole number"),
    ("backchannel_logout_uri", "ftp://wiki.example/bc", "The back-channel logout URI"),
    ("refresh_lifetime_minutes", "0", "The refresh token lifetime must be between"),
    ("jwks", "{", "The client JWKS must be JSON"),
]


@pytest.mark.parametrize(("field", "value", "message"), REFUSED, ids=[f for f, _, _ in REFUSED])
def test_a_refused_client_form_marks_and_focuses_the_field(
    live: LiveKeyfob, admin: Page, field: str, value: str, message: str
) -> None:
    """The form comes back with the refused field marked invalid, described by the error
    (then its own hint) and focused."""
    admin.goto(f"{live.url}/admin/clients/new")
    admin.locator("[name=name]").fill("Team Wiki")
    admin.locator("[name=redirect_uris]").fill("https://wiki.example/cb")
    admin.locator(f"[name={field}]").fill(value)
    admin.get_by_role("button", name="Create client").click()
    error = admin.locator("#form-error")
    error.wait_for()
    assert error.inner_text().startswith(message)
    focused = admin.evaluate(FOCUSED)
    assert (focused["name"], focused["invalid"]) == (field, "true")
    assert focused["described"][0] == error.inner_text()
    assert admin.locator("[aria-invalid]").count() == 1


# Wallets and clients as long as they come: checksummed 0x addresses, Solana's base58, a
# client's long name and redirect URI, an IPv6 address.
WALLETS = [
    ("ethereum", "0x52908400098527886E0F7030069857D2E4169EE7"),
    ("ethereum", "0xde709f2102306220921060314715629080e2fb77"),
    ("solana", "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"),
]
LONG_CLIENT = "Northwind Traders Customer Self-Service Portal (Production, EU-West-1)"
LONG_URI = "https://self-service.eu-west-1.northwind-traders.example/oauth2/callback/keyfob"
IPV6 = "2001:db8:85a3:1234:5678:8a2e:370:7334"
PHONE: ViewportSize = {"width": 390, "height": 844}
# In the page: how wide the document is, and every table cell that spills out of the
# viewport or its own box, or whose label is not shown before it.
NARROW = """(width) => {
  const problems = [];
  for (const cell of document.querySelectorAll(".admin-table td")) {
    const box = cell.getBoundingClientRect();
    if (box.left < 0 || box.right > width) problems.push(["cell outside", cell.innerText]);
    if (cell.scrollWidth > cell.clientWidth) problems.push(["clipped", cell.innerText]);
    for (const inner of cell.querySelectorAll("*")) {
      const part = inner.getBoundingClientRect();
      if (part.width && (part.left < box.left - 1 || part.right > box.right + 1))
        problems.push(["spills", inner.textContent]);
    }
    const label = cell.dataset.label;
    const before = getComputedStyle(cell, "::before");
    if (label && (before.content !== `"${label}: "` || before.display === "none"))
      problems.push(["no label", label]);
  }
  const head = document.querySelector(".admin-table thead").getBoundingClientRect();
  return { width: document.scrollingElement.scrollWidth, head: head.width * head.height,
    cells: document.querySelectorAll(".admin-table td").length, problems: problems };
}"""


def test_the_admin_tables_fit_a_390px_phone(live: LiveKeyfob, rp: CallbackApp, admin: Page) -> None:
    """The users, clients and audit tables of long names and addresses become labelled cards
    on a 390 px phone: no sideways scrolling, every cell labelled, nothing cut off."""
    runtime, store = live.runtime, live.runtime.store
    made = client(live, rp, LONG_CLIENT, redirect_uris=[LONG_URI])
    first, _ = live.call(
        store.sign_in_identity, kind=WALLETS[0][0], address=WALLETS[0][1], public_key=None,
        now=runtime.now(),
    )  # fmt: skip
    for kind, address in WALLETS[1:]:
        live.call(
            store.link_identity, user_id=first.id, kind=kind, address=address, public_key=None,
            now=runtime.now(),
        )  # fmt: skip
    (admin_id,) = live.call(store.users_with_role, "admin")
    for event in ("sso_redirect", "admin.permission_granted"):
        live.call(
            record_event, runtime, event, user_id=first.id, client_id=made.id, actor_id=admin_id,
            ip=IPV6, delivery="query", redirect_uri=LONG_URI,
        )  # fmt: skip
    admin.set_viewport_size(PHONE)
    try:
        shown = {
            "/admin/users": [ADMIN_NAME, *(address for _, address in WALLETS)],
            "/admin/clients": [LONG_CLIENT, LONG_URI],
            "/admin/audit": [ADMIN_NAME, LONG_CLIENT, IPV6, WALLETS[0][1]],
        }
        for path, long_texts in shown.items():
            admin.goto(live.url + path)
            text = admin.locator(".admin-table").inner_text()
            assert all(long in text for long in long_texts), path
            found = admin.evaluate(NARROW, PHONE["width"])
            assert found["cells"] >= 4, path
            assert found["width"] <= PHONE["width"], path
            assert found["head"] <= 1, path  # the column heads are for screen readers only
            assert found["problems"] == [], path
    finally:
        admin.set_viewport_size({"width": 1280, "height": 720})  # Playwright's default
