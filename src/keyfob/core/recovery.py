"""Recovery codes and recovery-link tokens: made here, stored only as keyed hashes.

A recovery code is 16 characters of RFC 4648 base32 (80 random bits), written in four groups
of four (``ABCD-EFGH-2JKL-MN7P``); a user gets :data:`CODE_COUNT` of them at once. What a user
types back is normalised first (case, spaces and hyphens do not matter).

The store keeps ``HMAC-SHA256(key, kind || secret)`` of a code or a link token, never the
secret. A fast keyed hash is the right tool here, not a password hash (Argon2, scrypt): these
secrets are random, not chosen by people, so there is no dictionary to try and 80 bits are far
beyond any offline search (2^80 guesses at 10^12 a second is 38,000 years), and without the
key, which lives outside the database, a copy of the table lets nobody test a guess at all. A
slow hash would only hand everyone an unauthenticated endpoint that burns the server's CPU.
The hash is also what the store looks a secret up by, so no secret is ever compared as text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

#: RFC 4648 base32: no 0, 1, 8 or 9, so no O/0 or I/1 to confuse.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: How many codes a user gets at once.
CODE_COUNT = 10
#: Characters of a code (5 bits each: 80 bits).
CODE_LENGTH = 16
_GROUP = 4
_COMPACT = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
_SEPARATORS = re.compile(r"[\s-]+")
_MAX_INPUT = 64  # a code with generous spacing; anything longer is no code

CODE_KIND = b"recovery-code:"
LINK_KIND = b"recovery-link:"


def new_recovery_code() -> str:
    """A fresh random code in its written form, ``XXXX-XXXX-XXXX-XXXX``."""
    compact = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_recovery_code(compact)


def new_recovery_codes(count: int = CODE_COUNT) -> tuple[str, ...]:
    """``count`` distinct fresh codes."""
    codes: dict[str, None] = {}
    while len(codes) < count:
        codes[new_recovery_code()] = None
    return tuple(codes)


def format_recovery_code(compact: str) -> str:
    """The written form of a compact code: groups of four joined by hyphens."""
    return "-".join(compact[i : i + _GROUP] for i in range(0, len(compact), _GROUP))


def normalise_recovery_code(text: str) -> str | None:
    """The compact code (16 base32 capitals) a user typed, ignoring case, spaces and hyphens;
    None if ``text`` cannot be a code."""
    if len(text) > _MAX_INPUT:
        return None
    compact = _SEPARATORS.sub("", text).upper()
    return compact if _COMPACT.fullmatch(compact) else None


def secret_hash(key: bytes, kind: bytes, secret: str) -> str:
    """What is stored for ``secret`` (a compact code, or a link token): hex HMAC-SHA256 under
    ``key`` of ``kind`` (:data:`CODE_KIND` or :data:`LINK_KIND`) and the secret, so a code
    never matches a link and the other way round."""
    return hmac.new(key, kind + secret.encode(), hashlib.sha256).hexdigest()
