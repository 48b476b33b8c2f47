"""OpenID Connect Core 1.0 §8: subject identifier types, ``public`` and ``pairwise``.

§8 defines two types. ``public`` gives every client the same ``sub``; ``pairwise`` (§8.1) gives
each *sector* its own ``sub``, which clients of different sectors cannot correlate and which no
party but the OpenID Provider can reverse. What keyfob does:

- ``public``: keyfob's stable user id (a uuid4), never an address or a username, which change
  and say who the user is elsewhere.
- ``pairwise``: ``base64url(HMAC-SHA256(key, sector || 0x00 || user id))``, 43 characters. It is
  the keyed form of §8.1's example constructions: nothing is stored, keyfob computes it again
  from the same key, and without the key it can be neither reversed nor linked to the user id.
  The server passes ``derive_key(KEYFOB_SECRET_KEY, "pairwise-subject")``; a new secret means
  new pairwise subjects for every user. A sector holds no NUL, so the input is unambiguous.
- The sector identifier (§8.1) is the host of the client's ``sector_identifier_uri`` when it
  has one, else the host of its redirect URIs, which must then all name one host: a client with
  redirect URIs on several hosts must register a ``sector_identifier_uri``. "Host" is RFC 3986's
  host component: no port, no user info, lowercase, no final dot.
- A ``sector_identifier_uri`` is https and names a JSON array holding every redirect URI of the
  client (OpenID Connect Registration 1.0 §2 and §5). Fetching it is the server's job;
  :func:`check_sector_document` checks what was fetched.
- §2: a ``sub`` is at most 255 ASCII characters; a user id that could not be one is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlsplit

from keyfob.core.encoding import b64url_encode
from keyfob.core.redirects import check_redirect_uri
from keyfob.errors import ConfigurationError, InvalidRequest

SubjectType = Literal["public", "pairwise"]
SUBJECT_TYPES: tuple[SubjectType, ...] = ("public", "pairwise")

# A host as urlsplit gives it (lowercased, IPv6 without brackets); 253 is DNS's longest name.
_SECTOR = re.compile(r"[a-z0-9._:-]{1,253}")
_SUBJECT = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces (§2: 255 ASCII chars)


def sector_identifier(*, redirect_uris: Sequence[str], sector_identifier_uri: str | None) -> str:
    """The §8.1 sector identifier of a client: the host of ``sector_identifier_uri`` if given,
    else the one host all ``redirect_uris`` share.

    Raises :class:`InvalidRequest` for a ``sector_identifier_uri`` that is not https, for no
    redirect URI, and for redirect URIs on several hosts without a ``sector_identifier_uri``.
    With a ``sector_identifier_uri`` the server must also fetch it and pass the document to
    :func:`check_sector_document` before registering the client.
    """
    if isinstance(redirect_uris, str) or not isinstance(redirect_uris, Sequence):
        raise InvalidRequest("The redirect URIs must be a list of URLs.")
    if not redirect_uris:
        raise InvalidRequest("A client needs a redirect URI to have a sector identifier.")
    hosts = {_host(check_redirect_uri(_text(uri, "A redirect URI"))) for uri in redirect_uris}
    if sector_identifier_uri is not None:
        try:
            uri = check_redirect_uri(_text(sector_identifier_uri, "The sector_identifier_uri"))
        except InvalidRequest as error:
            raise InvalidRequest(
                f"The sector_identifier_uri is not a usable URL: {error.message}"
            ) from error
        if urlsplit(uri).scheme != "https":
            raise InvalidRequest("The sector_identifier_uri must be an https URL.")
        return _host(uri)
    if len(hosts) > 1:
        raise InvalidRequest(
            f"The redirect URIs are on {len(hosts)} hosts ({', '.join(sorted(hosts))}): a "
            "pairwise client with several hosts must register a sector_identifier_uri."
        )
    return hosts.pop()


def check_sector_document(document: object, *, expected_redirect_uris: Sequence[str]) -> None:
    """Check the parsed JSON fetched from a ``sector_identifier_uri``: an array of strings that
    holds every one of ``expected_redirect_uris`` exactly (Registration 1.0 §5).

    Raises :class:`InvalidRequest` naming the first redirect URI that is missing.
    """
    if not isinstance(document, list) or not all(isinstance(item, str) for item in document):
        raise InvalidRequest("The sector_identifier_uri must serve a JSON array of URLs.")
    listed = set(document)
    for uri in expected_redirect_uris:
        if uri not in listed:  # exact string comparison, as for redirect URIs themselves
            raise InvalidRequest(
                f"The redirect URI {uri!r} is not listed at the sector_identifier_uri."
            )


def public_subject(user_id: str) -> str:
    """The ``public`` subject: keyfob's user id, unchanged (checked to be a valid ``sub``)."""
    return _user_id(user_id)


def pairwise_subject(user_id: str, *, key: bytes, sector: str) -> str:
    """The ``pairwise`` subject of ``user_id`` for ``sector`` (see the module docstring).

    Raises :class:`ConfigurationError` for a key shorter than 32 bytes and
    :class:`InvalidRequest` for a sector that is not a host as :func:`sector_identifier` gives.
    """
    if not isinstance(key, bytes) or len(key) < 32:
        raise ConfigurationError("The pairwise subject key must be 32 bytes (use derive_key).")
    if not isinstance(sector, str) or not _SECTOR.fullmatch(sector):
        raise InvalidRequest("A sector identifier is a lowercase host name.")
    data = sector.encode("ascii") + b"\x00" + _user_id(user_id).encode("ascii")
    return b64url_encode(hmac.new(key, data, hashlib.sha256).digest())


def subject_for(
    user_id: str, *, subject_type: str, key: bytes | None = None, sector: str | None = None
) -> str:
    """The ``sub`` for a client of ``subject_type``; ``pairwise`` needs ``key`` and ``sector``."""
    if subject_type == "public":
        return public_subject(user_id)
    if subject_type == "pairwise":
        if key is None or sector is None:
            raise ConfigurationError("A pairwise subject needs the key and the client's sector.")
        return pairwise_subject(user_id, key=key, sector=sector)
    raise InvalidRequest(f"The subject type must be one of {', '.join(SUBJECT_TYPES)}.")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{what} must be a URL.")
    return value


def _host(uri: str) -> str:
    host = (urlsplit(uri).hostname or "").removesuffix(".")  # "example.org." is example.org
    if not host.isascii():
        raise InvalidRequest(f"Write the host of {uri!r} in its ASCII (punycode) form.")
    if not _SECTOR.fullmatch(host):
        raise InvalidRequest(f"The host of {uri!r} cannot be a sector identifier.")
    return host


def _user_id(user_id: object) -> str:
    if not isinstance(user_id, str) or not _SUBJECT.fullmatch(user_id):
        raise InvalidRequest("A user id is 1 to 255 printable ASCII characters.")
    return user_id
