"""The error sentences the hosted pages translate: what a person signing in meets most.

keyfob's errors carry English sentences (the JSON API's ``message``, stable for logs). Where
the hosted pages show one, on an error page or in a page script's status line, it is looked up
in the page's language; the sentences below are in the catalogs, any other one shows in
English. Each must be, character for character, a sentence keyfob raises
(tests/server/pages/test_translations.py checks that against the source).
"""

from __future__ import annotations

from keyfob.server.pages.i18n import N_

PAGE_ERRORS = (
    # keyfob.errors' default sentences a sign-in can end in.
    N_("The request is malformed."),
    N_("The request could not be processed."),
    N_("The URL is too long or holds characters no keyfob URL has."),
    N_("The sign-in message is malformed."),
    N_("The sign-in message was not made for this server."),
    N_("The sign-in message has expired or is not valid yet."),
    N_("The signature does not verify."),
    N_("The nonce is unknown, expired or already used."),
    N_("The passkey response does not verify."),
    N_("The challenge is unknown, expired or already used; start again."),
    N_("This clashes with something that already exists."),
    N_("You are not allowed to do this."),
    N_("The form is missing its security token or it is stale; reload the page."),
    N_("This app does not allow new accounts to register here."),
    N_("Your account has not been given access to this app."),
    N_("This app requires a state in its sign-in requests."),
    N_("This redirect URI is not registered for the app."),
    N_("Not found."),
    N_("There is no app with this client id."),
    N_("The request body is too large."),
    N_("Too many requests; slow down and try again shortly."),
    N_(
        "This passkey's signature counter went backwards, a sign that it may have been "
        "cloned; the sign-in was refused."
    ),
    # The HTTP errors of keyfob.server.infra.errors.
    N_("There is nothing at this path."),
    N_("This path does not accept this HTTP method."),
    N_("keyfob hit an unexpected error; it was logged."),
    # Redirect URIs (keyfob.core.redirects).
    N_(
        "This app has no redirect URI registered, so keyfob cannot send you back to it. "
        "Its administrator must register one."
    ),
    N_("This app has several redirect URIs; the link must say which one (redirectUri)."),
    N_(
        "The redirect URI in this link is not registered for this app, so keyfob will not "
        "send your sign-in there."
    ),
    # Passkeys and usernames (keyfob.server.services.passkey_flow).
    N_("The passkey's user handle does not match its account."),
    N_("A username is 1 to 64 letters, digits or . _ @ + - and starts with a letter or digit."),
    N_("This username is taken; choose another."),
    N_("This passkey is not registered here."),
    N_("This passkey belongs to another account."),
    N_(
        "A sign-in without a username needs the passkey's user handle, and this response "
        "carries none."
    ),
    # Wallets (keyfob.server.services.wallet).
    N_("This nonce was issued for another address."),
    N_("The message's Issued At lies outside the life of its nonce."),
    # The pages themselves, the admin enrolment and the OpenID Provider's pages.
    N_("This request did not come from keyfob's own pages."),
    N_("This enrolment link has no token; copy the whole link."),
    N_(
        "This enrolment link is unknown, already used or expired; ask for a new one "
        "(keyfob admin create)."
    ),
    N_(
        "No keyfob account signs in with this wallet. Sign up through an app first, or sign "
        "in with a passkey or wallet of your account and link this one there."
    ),
    N_("There is no app with this client_id; check the link you followed."),
    N_("The redirect_uri parameter is missing; OpenID Connect requires it."),
    N_("This sign-in request has expired or is not valid; go back to the app and start again."),
    N_("This consent form is not valid any more; go back to the app and start again."),
    N_("This sign-out form is not valid any more."),
    # The account page (keyfob.server.account, its services and store calls).
    N_("This request was sent from another site."),
    N_("Your keyfob session has ended; sign in again."),
    N_("This session has reached its maximum age; sign in again."),
    N_("You have no sign-in method with this id."),
    N_("This is your last way to sign in; add another before removing it."),
    N_("Give the passkey a name."),
    N_("A passkey's name cannot hold control characters."),
    N_("This passkey is already registered."),
    N_("This wallet already signs in to another account."),
    N_("This app is not connected to your account."),
    N_(
        "Confirm it is you first: this change needs a fresh proof from a passkey or wallet "
        "already on your account."
    ),
    N_(
        "New recovery codes replace the old ones, so keyfob asks you to confirm first: confirm "
        "with a passkey or wallet of this account, then generate them again."
    ),
    N_(
        "This recovery code does not open that account: check both, and that the code was not "
        "used before."
    ),
    # Step-up (keyfob.server.services.step_up).
    N_("Your account has no passkey: confirm with a wallet of it."),
    N_("Name the wallet that confirms: chain and address."),
    N_("This wallet is not a sign-in method of your account."),
    N_("This passkey is not a sign-in method of your account."),
    N_("Send a passkey credential or a signed message, not both."),
    N_("Send a passkey credential, or chain, message and signature."),
    N_("This challenge was not issued for a step-up."),
    N_("This challenge was issued for another account."),
    N_("This chain id is not accepted here."),
)
