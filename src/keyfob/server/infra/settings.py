"""Settings from ``KEYFOB_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

import logging
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from keyfob.core.image_urls import check_image_url
from keyfob.errors import ConfigurationError, InvalidRequest
from keyfob.server.infra.client_address import ForwardedHeader, TrustedProxies, parse_networks
from keyfob.server.infra.cors import normalise_origin

log = logging.getLogger("keyfob")

_MIN_SECRET_LENGTH = 32
_HOST = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")  # a name, an IPv4 or an (unbracketed) IPv6 address
_HEX, _SHORT_HEX = re.compile(r"#[0-9a-f]{6}"), re.compile(r"#[0-9a-f]{3}")


class Settings(BaseSettings):
    """Every setting keyfob reads; the README's table lists them with their defaults."""

    model_config = SettingsConfigDict(
        env_prefix="KEYFOB_", env_file=".env", extra="ignore", frozen=True
    )

    public_url: str = "http://localhost:8000"
    data_dir: Path = Path(".keyfob")
    database_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    ethereum_chain_ids: Annotated[tuple[int, ...], NoDecode] = (1,)
    nonce_mode: Literal["stored", "signed"] = "stored"
    nonce_ttl: int = Field(default=300, ge=30, le=3600)
    access_token_ttl: int = Field(default=900, ge=30)
    refresh_token_ttl: int = Field(default=7 * 24 * 3600, ge=60)
    refresh_grace: int = Field(default=10, ge=0, le=300)
    session_key_ttl: int = Field(default=30 * 24 * 3600, ge=60)
    session_max_age: int = Field(default=30 * 24 * 3600, ge=300)
    audit_retention_days: int = Field(default=400, ge=1)
    audit_failure_retention_days: int = Field(default=30, ge=1)
    token_algorithm: Literal["EdDSA", "ES256", "HS256"] = "EdDSA"
    token_audience: str | None = None
    step_up_ttl: int = Field(default=300, ge=30, le=3600)
    recovery_link_ttl: int = Field(default=3600, ge=60, le=24 * 3600)
    statement: str = "Sign in with your key. This request will not trigger a transaction."
    rate_limit: int = Field(default=300, ge=0)
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    forwarded_header: ForwardedHeader = "x-forwarded-for"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    log_level: str = "info"
    webauthn_rp_id: str | None = None
    webauthn_rp_name: str = "keyfob"
    webauthn_origins: Annotated[tuple[str, ...], NoDecode] = ()
    webauthn_user_verification: Literal["required", "preferred", "discouraged"] = "preferred"
    webauthn_attestation: Literal["none", "indirect", "direct"] = "none"
    webauthn_timeout: int = Field(default=300, ge=30, le=3600)
    legacy_nimiq_challenge: bool = False
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    product_name: str = "keyfob"
    logo_url: str | None = None
    accent_color: str | None = None
    extra_css: Path | None = None

    @field_validator("ethereum_chain_ids", mode="before")
    @classmethod
    def _split_chain_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part for part in value.replace(" ", "").split(",") if part]
            if not all(part.isdigit() for part in parts):
                raise ValueError(
                    f"KEYFOB_ETHEREUM_CHAIN_IDS: {value!r} is not a list of chain ids such as 1,137"
                )
            return tuple(int(part) for part in parts)
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("webauthn_origins", "cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("webauthn_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin.startswith("android:apk-key-hash:"):
                continue
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
                raise ValueError(
                    f"KEYFOB_WEBAUTHN_ORIGINS: {origin!r} is not an origin such as "
                    "https://auth.example.com or android:apk-key-hash:<hash>"
                )
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "*" in value:
            raise ValueError(
                "KEYFOB_CORS_ORIGINS: '*' is refused: list the origins of your browser apps "
                "(keyfob never opens its API to every site)"
            )
        return tuple(dict.fromkeys(normalise_origin(origin) for origin in value))

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("forwarded_header", mode="before")
    @classmethod
    def _lower_header(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(network) for network in parse_networks(value))

    @field_validator("logo_url", "accent_color", "extra_css", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("product_name")
    @classmethod
    def _check_product_name(cls, value: str) -> str:
        value = value.strip()
        if not 1 <= len(value) <= 64 or not value.isprintable():
            raise ValueError("KEYFOB_PRODUCT_NAME is 1 to 64 printable characters")
        return value

    @field_validator("logo_url")
    @classmethod
    def _check_logo_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_image_url(value.strip(), what="KEYFOB_LOGO_URL", allow_path=True)
        except InvalidRequest as error:
            raise ValueError(error.message) from None

    @field_validator("accent_color")
    @classmethod
    def _check_accent_color(cls, value: str | None) -> str | None:
        if value is None:
            return None
        color = value.strip().lower()
        if _SHORT_HEX.fullmatch(color):
            color = "#" + "".join(digit * 2 for digit in color[1:])
        if not _HEX.fullmatch(color):
            raise ValueError("KEYFOB_ACCENT_COLOR is a hex colour such as #0b5cad or #07c")
        return color

    @field_validator("extra_css")
    @classmethod
    def _check_extra_css(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.is_file():
            raise ValueError(f"KEYFOB_EXTRA_CSS: {str(value)!r} is not a file")
        return value.resolve()

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.hostname or ""):
            raise ValueError(
                "KEYFOB_PUBLIC_URL must be an http(s) URL such as https://auth.example.com"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError(
                "KEYFOB_PUBLIC_URL must be an origin, without a path, query or fragment"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"KEYFOB_PUBLIC_URL: {value!r} has an invalid port") from None
        # As browsers write the origin (Origin headers, WebAuthn's clientData): no default port.
        netloc = parts.netloc.lower()
        if port == {"http": 80, "https": 443}[parts.scheme]:
            netloc = netloc.rsplit(":", 1)[0]
        return f"{parts.scheme}://{netloc}"

    @model_validator(mode="after")
    def _check_audiences(self) -> Settings:
        audience = (self.token_audience or "").rstrip("/").lower()
        if audience == self.account_audience:
            raise ValueError(
                f"KEYFOB_TOKEN_AUDIENCE must not be {self.account_audience!r}: that audience is "
                "keyfob's own account API, which apps' tokens must never reach"
            )
        return self

    @cached_property
    def origin(self) -> str:
        """Our origin, ``scheme://host[:port]``: sign-in message URIs must be on it."""
        return self.public_url

    @cached_property
    def domain(self) -> str:
        """Host and port of the public URL: the ``domain`` every sign-in message must carry."""
        return urlsplit(self.public_url).netloc

    @cached_property
    def issuer(self) -> str:
        """The ``iss`` of every token keyfob issues."""
        return self.public_url

    @cached_property
    def audience(self) -> str:
        """The ``aud`` of access tokens (``KEYFOB_TOKEN_AUDIENCE``, else the public URL)."""
        return self.token_audience or self.public_url

    @cached_property
    def proxies(self) -> TrustedProxies:
        """Whose forwarding header is believed for the client address (nobody's by default)."""
        return TrustedProxies(parse_networks(self.trusted_proxies), self.forwarded_header)

    @cached_property
    def account_audience(self) -> str:
        """The ``aud`` of account tokens, the only tokens keyfob's own account API accepts."""
        return f"{self.public_url}/account"

    @cached_property
    def rp_id(self) -> str:
        """The WebAuthn relying party id: ``KEYFOB_WEBAUTHN_RP_ID``, else the public URL's host."""
        return self.webauthn_rp_id or (urlsplit(self.public_url).hostname or "")

    @cached_property
    def passkey_origins(self) -> tuple[str, ...]:
        """Origins a passkey response may come from: ``KEYFOB_WEBAUTHN_ORIGINS``, else ours."""
        return self.webauthn_origins or (self.origin,)

    @cached_property
    def secure_cookies(self) -> bool:
        """Cookies are ``Secure`` (and ``__Host-`` prefixed) unless we serve plain http."""
        return urlsplit(self.public_url).scheme == "https"

    @cached_property
    def resolved_database_url(self) -> str:
        """``KEYFOB_DATABASE_URL``, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'keyfob.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """``KEYFOB_SECRET_KEY``, or one generated into the data directory on first start."""
        if self.secret_key is not None:
            if len(self.secret_key) < _MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"KEYFOB_SECRET_KEY must be at least {_MIN_SECRET_LENGTH} characters long."
                )
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        generated = secrets.token_urlsafe(32)
        path.touch(mode=0o600)
        path.write_text(generated + "\n", encoding="ascii")
        log.info("KEYFOB_SECRET_KEY is not set: generated a new secret key into %s", path.resolve())
        return generated
