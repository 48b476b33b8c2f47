"""CAIP-10 account ids and CAIP-2 chain ids, for the chains keyfob signs in with.

CAIP-2: ``namespace ":" reference``, namespace ``[-a-z0-9]{3,8}``, reference
``[-_a-zA-Z0-9]{1,32}``. CAIP-10 (Final, 2022-10-23): ``chain_id ":" account_address``, the
address ``[-.%a-zA-Z0-9]{1,128}``. Both are case-sensitive, and no part holds a colon.
:func:`parse_account_id` applies exactly that grammar; :func:`parse_keyfob_account_id` adds
the rules of keyfob's three chains, and :func:`format_account_id` writes their canonical form:

- Ethereum, CASA ``eip155`` profile: ``eip155:<decimal EIP-155 chain id>:<EIP-55 address>``.
  keyfob writes the checksum case and, as the profile asks, also reads all-lowercase addresses.
- Solana, CASA ``solana`` profile (formerly CAIP-30): ``solana:<first 32 characters of the
  genesis hash>:<base58 address>``, for mainnet, devnet and testnet.
- Nimiq has no registered namespace. keyfob uses ``nimiq:mainnet`` and ``nimiq:testnet`` and
  the address in its compact form, upper case: ``nimiq:mainnet:NQ07…`` (36 characters). The
  namespace is the chain's name, as for ``solana`` or ``polkadot``; the reference names the
  network, as ``hedera:mainnet`` does, since Nimiq's networks are few and known by name. The
  address loses its spaces because CAIP-10 allows none, and keeps Nimiq's own upper case
  (its base32 alphabet and IBAN check digits are defined on it) so that it reads as the
  address a Nimiq wallet shows. Should CASA register a ``nimiq`` namespace, follow it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from keyfob.core.eip55 import is_checksum_address, to_checksum_address
from keyfob.core.nimiq import normalize_nimiq_address
from keyfob.core.solana import is_solana_address
from keyfob.errors import InvalidRequest

KeyfobChain = Literal["ethereum", "solana", "nimiq"]

_CHAIN_ID = re.compile(r"([-a-z0-9]{3,8}):([-_a-zA-Z0-9]{1,32})")
_ACCOUNT_ID = re.compile(r"([-a-z0-9]{3,8}):([-_a-zA-Z0-9]{1,32}):([-.%a-zA-Z0-9]{1,128})")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,31}")
_NAMESPACES: dict[KeyfobChain, str] = {"ethereum": "eip155", "solana": "solana", "nimiq": "nimiq"}
# CASA namespaces, solana/caip2.md: truncate(genesisHash, 32) of each cluster.
_SOLANA = {
    "mainnet": "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "devnet": "EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
    "testnet": "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z",
}
_SOLANA_NAMES = {reference: name for name, reference in _SOLANA.items()}
_NIMIQ_NETWORKS = ("mainnet", "testnet")


@dataclass(frozen=True)
class ChainId:
    """A CAIP-2 chain id; ``str()`` gives ``namespace:reference``."""

    namespace: str
    reference: str

    def __str__(self) -> str:
        return f"{self.namespace}:{self.reference}"


@dataclass(frozen=True)
class AccountId:
    """A CAIP-10 account id; ``str()`` gives ``namespace:reference:address``."""

    chain_id: ChainId
    address: str

    def __str__(self) -> str:
        return f"{self.chain_id}:{self.address}"


@dataclass(frozen=True)
class KeyfobAccount:
    """An account on one of keyfob's chains: ``network`` is ``"1"``-like for Ethereum, else
    ``"mainnet"``-like; ``address`` is keyfob's own form (Nimiq's grouped with spaces)."""

    chain: KeyfobChain
    network: str
    address: str
    account_id: AccountId


def parse_chain_id(text: str) -> ChainId:
    """Parse a CAIP-2 chain id strictly; :class:`InvalidRequest` if it breaks the grammar."""
    match = _CHAIN_ID.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidRequest("A CAIP-2 chain id is namespace:reference, e.g. eip155:1.")
    return ChainId(match[1], match[2])


def parse_account_id(text: str) -> AccountId:
    """Parse a CAIP-10 account id strictly, whatever its namespace; the address is unchecked."""
    match = _ACCOUNT_ID.fullmatch(text) if isinstance(text, str) and len(text) <= 170 else None
    if match is None:
        raise InvalidRequest("A CAIP-10 account id is namespace:reference:address.")
    return AccountId(ChainId(match[1], match[2]), match[3])


def chain_id(chain: str, network: str | int) -> ChainId:
    """The CAIP-2 chain id of ``network`` on keyfob's ``chain``: an EIP-155 chain id for
    Ethereum; ``"mainnet"``, ``"devnet"``, ``"testnet"`` (or ``"solana:mainnet"``...,
    as Sign-In With Solana writes them, or the reference) for Solana; ``"mainnet"`` or
    ``"testnet"`` for Nimiq."""
    if chain == "ethereum":
        number = isinstance(network, int) and not isinstance(network, bool)
        text = str(network) if number else network
        if not isinstance(text, str) or not _DECIMAL.fullmatch(text):
            raise InvalidRequest("An Ethereum chain id is a decimal number, e.g. 1.")
        return ChainId("eip155", text)
    if chain == "solana":
        name = network.removeprefix("solana:") if isinstance(network, str) else ""
        reference = _SOLANA.get(name) or (name if name in _SOLANA_NAMES else None)
        if reference is None:
            raise InvalidRequest(f"A Solana network is one of {', '.join(_SOLANA)}.")
        return ChainId("solana", reference)
    if chain == "nimiq":
        if network not in _NIMIQ_NETWORKS:
            raise InvalidRequest("A Nimiq network is mainnet or testnet.")
        return ChainId("nimiq", str(network))
    known = ", ".join(_NAMESPACES)
    raise InvalidRequest(f"Unknown chain {str(chain)[:20]!r}; use one of {known}.")


def format_account_id(chain: str, network: str | int, address: str) -> str:
    """The canonical CAIP-10 id of ``address`` on ``network`` of ``chain`` (see the module
    docstring); the address may come in any case (Ethereum) or spacing and case (Nimiq)."""
    chain_ = chain_id(chain, network)
    if not isinstance(address, str):
        raise InvalidRequest("An address is text.")
    if chain == "ethereum":
        written = to_checksum_address(address)
    elif chain == "solana":
        written = _solana_address(address)
    else:
        written = normalize_nimiq_address(address).replace(" ", "")
    return str(AccountId(chain_, written))


def parse_keyfob_account_id(text: str) -> KeyfobAccount:
    """Parse a CAIP-10 id of an account on one of keyfob's chains, in its canonical form only
    (an all-lowercase Ethereum address is accepted too). :class:`InvalidRequest` otherwise."""
    account = parse_account_id(text)
    namespace, reference = account.chain_id.namespace, account.chain_id.reference
    address = account.address
    if namespace == "eip155":
        if not (is_checksum_address(address) or address == address.lower()):
            raise InvalidRequest("An eip155 account is an EIP-55 (or all-lowercase) address.")
        checksummed = to_checksum_address(address)
        canonical = AccountId(chain_id("ethereum", reference), checksummed)
        return KeyfobAccount("ethereum", reference, checksummed, canonical)
    if namespace == "solana" and reference in _SOLANA_NAMES:
        _solana_address(address)
        return KeyfobAccount("solana", _SOLANA_NAMES[reference], address, account)
    if namespace == "nimiq" and reference in _NIMIQ_NETWORKS:
        grouped = normalize_nimiq_address(address)
        if grouped.replace(" ", "") != address:
            raise InvalidRequest("A nimiq account is the compact upper-case address (NQ..).")
        return KeyfobAccount("nimiq", reference, grouped, account)
    raise InvalidRequest(f"keyfob has no accounts on {account.chain_id}.")


def _solana_address(address: str) -> str:
    if not is_solana_address(address):
        raise InvalidRequest("A Solana address is the base58 form of a 32-byte key.")
    return address
