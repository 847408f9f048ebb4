"""Proofs that a DID controls a host, checked by the registry itself, with what was fetched.

Three methods, after the ones people already use to prove control of a domain:

* ``did-web``: the DID *is* the host's own did:web (``did:web:HOST``, no path and no port, since a
  path only proves control of that path: did:web spec, "Optional Path Considerations"), and its DID
  document resolves;
* ``well-known``: ``https://HOST/.well-known/kotowari-did`` lists the DID (like Search Console's
  verification file or ACME http-01): text, one DID a line, ``#`` comments and blank lines ignored;
* ``dns-txt``: a TXT record at ``_kotowari.HOST`` holds ``did=<DID>`` (like Bluesky's ``_atproto``
  and ACME dns-01).

Each success is `Evidence`: the method, the host, what was fetched and the SHA-256 of the bytes
that proved it, so the registry can sign it into the log and a later audit can see what it saw.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol, get_args

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from registry.authority.didweb import DidResolutionError, DidWebResolver, did_web_host, did_web_is_bare
from registry.authority.fetch import FetchRefused, HttpsFetcher
from registry.urls import InvalidURL, canonicalize

__all__ = [
    "DNS_LABEL",
    "VERIFICATION_FILE",
    "DnsLookupFailed",
    "DnsTxtLookup",
    "DomainChecker",
    "Evidence",
    "Method",
    "TxtLookup",
    "VerificationFailed",
    "verification_host",
]

VERIFICATION_FILE: Final = "/.well-known/kotowari-did"
VERIFICATION_FILE_MAX_BYTES: Final = 16 * 1024
DNS_LABEL: Final = "_kotowari"
Method = Literal["did-web", "well-known", "dns-txt"]
METHODS: Final[tuple[str, ...]] = get_args(Method)

_DID: Final = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%-]+")
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NOT_IN_HOST: Final = frozenset("/?#@:[]\\% \t\r\n")


class VerificationFailed(ValueError):
    """A proof of control that did not hold; the message says what was looked at and what was found."""


class DnsLookupFailed(OSError):
    """No usable DNS answer (timeout, SERVFAIL): unlike NXDOMAIN, it says nothing about the record."""


@dataclass(frozen=True)
class Evidence:
    """A proof of control as checked: how, of which host, what was fetched and the hash of what came back.

    ``url`` is the https URL fetched, or for DNS the RFC 4501 URI ``dns:_kotowari.HOST?type=TXT``;
    ``sha256`` is of the body fetched, or of the TXT strings (sorted) joined by newlines.
    """

    method: Method
    host: str
    url: str
    sha256: str
    checked_at: datetime


class TxtLookup(Protocol):
    """The TXT strings at a name (each record's strings concatenated); [] when there are none.

    Raises `OSError` (such as `DnsLookupFailed`) when no answer came.
    """

    async def __call__(self, name: str) -> list[str]: ...


class DnsTxtLookup:
    """TXT lookups with dnspython; `nameservers` as ``[(ip, port)]``, or the system's configuration.

    Answers are never cached here: a re-check must see the record as it is now.
    """

    def __init__(self, nameservers: Sequence[tuple[str, int]] | None = None, timeout: float = 2.0) -> None:
        self.nameservers = list(nameservers) if nameservers is not None else None
        self.timeout = timeout
        self._resolver: dns.asyncresolver.Resolver | None = None

    def _configured(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:
            if self.nameservers is None:
                resolver = dns.asyncresolver.Resolver()  # reads /etc/resolv.conf on first use only
            else:
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = [
                    dns.nameserver.Do53Nameserver(ip, port) for ip, port in self.nameservers
                ]
            resolver.timeout = resolver.lifetime = self.timeout
            self._resolver = resolver
        return self._resolver

    async def __call__(self, name: str) -> list[str]:
        try:
            answer = await self._configured().resolve(
                dns.name.from_text(name), dns.rdatatype.TXT, search=False, raise_on_no_answer=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            raise DnsLookupFailed(f"no DNS answer for {name} within {self.timeout:g} s") from None
        except dns.exception.DNSException as exc:
            raise DnsLookupFailed(f"the DNS lookup of {name} failed: {exc}") from None
        if answer.rrset is None:
            return []
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer.rrset]


def verification_host(host: str) -> str:
    """The host as `registry.urls` canonicalises it (lower case, IDNA), or `VerificationFailed`.

    Only DNS names can be verified: IP addresses, ports, paths and single labels are refused.
    """
    if not isinstance(host, str) or not host or any(char in _NOT_IN_HOST for char in host):
        raise VerificationFailed(f"{host!r} is not a host name (no scheme, port, path or spaces)")
    try:
        canonical = canonicalize(f"https://{host}/").host
    except InvalidURL as exc:
        raise VerificationFailed(f"{host!r} is not a host name: {exc}") from None
    labels = canonical.split(".")
    if labels[-1].isdigit() or canonical.startswith("["):
        raise VerificationFailed(f"{host!r} is an IP address; only domain names can be verified")
    if len(labels) < 2 or len(canonical) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise VerificationFailed(f"{host!r} is not a domain name that can be verified")
    return canonical


class DomainChecker:
    """Checks one proof of control at a time, by `Method`; see the module text.

    ``clock`` dates DNS checks (HTTPS ones are dated by the fetcher and resolver); it defaults to
    the fetcher's clock.
    """

    def __init__(
        self,
        fetcher: HttpsFetcher,
        resolver: DidWebResolver,
        *,
        dns: TxtLookup | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.resolver = resolver
        self.dns = dns
        self.clock = clock or fetcher.clock

    async def check(self, did: str, host: str, method: Method) -> Evidence:
        """`Evidence` that `did` controls `host` by `method`, or `VerificationFailed` saying why not."""
        if method not in METHODS:
            raise VerificationFailed(f"unknown verification method {method!r}: one of {', '.join(METHODS)}")
        if not isinstance(did, str) or not _DID.fullmatch(did):
            raise VerificationFailed(f"{str(did)[:80]!r} is not a DID (no path, query or fragment)")
        canonical = verification_host(host)
        if method == "did-web":
            return await self._did_web(did, canonical)
        if method == "well-known":
            return await self._well_known(did, canonical)
        return await self._dns_txt(did, canonical)

    async def _did_web(self, did: str, host: str) -> Evidence:
        if not did.startswith("did:web:"):
            raise VerificationFailed(f"the did-web method needs a did:web DID, and {did} is not one")
        try:
            named = did_web_host(did)
            bare = did_web_is_bare(did)
        except DidResolutionError as exc:
            raise VerificationFailed(str(exc)) from None
        if named != host:
            raise VerificationFailed(f"{did} is a did:web of {named}, not of {host}")
        if not bare:
            raise VerificationFailed(
                f"{did} names a port or path on {host}; only did:web:{host} speaks for it"
            )
        try:
            resolved = await self.resolver.resolve(did, fresh=True)
        except DidResolutionError as exc:
            raise VerificationFailed(str(exc)) from None
        return Evidence("did-web", host, resolved.url, resolved.sha256, resolved.resolved_at)

    async def _well_known(self, did: str, host: str) -> Evidence:
        url = f"https://{host}{VERIFICATION_FILE}"
        try:
            fetched = await self.fetcher.get(url, accept="text/plain", max_bytes=VERIFICATION_FILE_MAX_BYTES)
        except FetchRefused as exc:
            raise VerificationFailed(str(exc)) from None
        try:
            text = fetched.body.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationFailed(f"{url} is not UTF-8 text") from None
        listed = [line.strip() for line in text.splitlines()]
        listed = [line for line in listed if line and not line.startswith("#")]
        if did not in listed:
            raise VerificationFailed(f"{url} {_listing('lists', listed)}, not {did}")
        return Evidence("well-known", host, url, fetched.sha256, fetched.fetched_at)

    async def _dns_txt(self, did: str, host: str) -> Evidence:
        if self.dns is None:
            raise VerificationFailed("this registry has no DNS resolver for dns-txt checks")
        name = f"{DNS_LABEL}.{host}"
        try:
            records = await self.dns(name)
        except OSError as exc:
            raise VerificationFailed(str(exc) or f"the DNS lookup of {name} failed") from None
        if not records:
            raise VerificationFailed(f"there is no TXT record at {name}")
        if f"did={did}" not in (record.strip() for record in records):
            found = [record.strip()[4:] for record in records if record.strip().startswith("did=")]
            raise VerificationFailed(f"the TXT records at {name} {_listing('list', found)}, not {did}")
        digest = hashlib.sha256("\n".join(sorted(records)).encode("utf-8")).hexdigest()
        return Evidence("dns-txt", host, f"dns:{name}?type=TXT", digest, self.clock())


def _listing(verb: str, dids: list[str]) -> str:
    """'lists no DID' / 'lists 2 DIDs (a, b)', for messages naming what was found."""
    if not dids:
        return f"{verb} no DID"
    shown = ", ".join(did[:80] for did in dids[:3]) + (", ..." if len(dids) > 3 else "")
    return f"{verb} {len(dids)} DID{'s' if len(dids) != 1 else ''} ({shown})"
