"""Public suffixes: which hosts a URL claim may name, by the Public Suffix List.

A claim over ``https://co.jp/`` would reserve every ``*.co.jp`` site at once (a claim over a site
covers its subdomains, see `registry.urls.claim_expression`), on the word of whoever filed it. So a
URL identifier in a claim or a notice must name a *registrable domain* — the eTLD+1 of the Public
Suffix List (publicsuffix.org), such as ``example.co.jp`` or ``alice.github.io`` — or something
below it. Both sections of the list count: ICANN suffixes (``com``, ``co.jp``, ``рф``) and the
PRIVATE ones that platforms register for their users' subdomains (``github.io``,
``s3.amazonaws.com``). Wildcard and exception rules follow the list's algorithm (``*.ck`` makes
``test.ck`` a public suffix, ``!www.ck`` makes ``www.ck`` registrable), and so does its default rule
``*``: a host under no listed suffix has its last label as its public suffix, so ``example.test``
is registrable but a single unknown label (``localhost``, ``intranet``) has no registrable domain
and is refused too.

IP addresses are not domain names and have no registrable domain, but `registry.urls` accepts
them in claims (a claim over an IP address covers that host only), so they are *not* public
suffixes here: `is_public_suffix` is False and `refuse_public_suffix` lets them through.

The list is the copy inside the ``publicsuffixlist`` wheel (`PACKAGE_VERSION`; the list's own
date is `list_version`), parsed once, on first use; nothing is downloaded at run time. It is
updated by bumping that package's pin in ``pyproject.toml`` (see the README).

Hosts are expected in the canonical form `registry.urls` gives them (ASCII, Punycode, lower case,
no trailing dot); upper case, one trailing dot and international labels are accepted as well.

>>> registrable_domain("www.example.co.jp"), registrable_domain("co.jp")
('example.co.jp', None)
>>> is_public_suffix("github.io"), is_public_suffix("alice.github.io"), is_public_suffix("192.0.2.1")
(True, False, False)
"""

from __future__ import annotations

import encodings.idna
import functools
import ipaddress
import re
import threading
from typing import Final

import publicsuffixlist
from publicsuffixlist import PublicSuffixList

__all__ = [
    "PACKAGE_VERSION",
    "PublicSuffixHost",
    "is_ip_host",
    "is_public_suffix",
    "list_version",
    "public_suffix",
    "refuse_public_suffix",
    "registrable_domain",
]

PACKAGE_VERSION: Final[str] = publicsuffixlist.__version__
"""The ``publicsuffixlist`` release whose bundled list is used; its last part is the list's date."""

_IDNA_DOTS: Final = re.compile("[.\u3002\uff0e\uff61]")
_VERSION_LINE: Final = re.compile(r"//\s*VERSION:\s*(\S+)")

_lock = threading.Lock()
_psl: PublicSuffixList | None = None
_version: str | None = None


class PublicSuffixHost(ValueError):
    """A host that is a public suffix or has no registrable domain; the message says which."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(message)
        self.host = host


def _punycode(rule: str) -> str:
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in rule.split(".")
    )


def _rules_with_punycode() -> list[str]:
    """The bundled list's lines, each international rule followed by its Punycode form.

    That is the set `PublicSuffixList(accept_encoded_idn=True)` builds, made in a third of the time:
    the library IDNA-encodes all 10,000 rules (Python's codec, nameprep included) where 459 need it,
    and a plain Punycode of their labels gives the same strings (tests/registry/test_suffixes.py
    compares the two sets), so every command that checks a URL starts about 0.12 s sooner."""
    lines = []
    with open(publicsuffixlist.PSLFILE, encoding="utf-8") as source:
        for line in source:
            lines.append(line)
            if not line.isascii():
                rule = line.lower().split(" ")[0].rstrip()
                if rule and not rule.startswith("//"):
                    bang = "!" if rule.startswith("!") else ""
                    lines.append(bang + _punycode(rule.removeprefix("!")) + "\n")
    return lines


def _list() -> PublicSuffixList:
    """The one parsed list (ICANN and PRIVATE sections, unknown TLDs public by the default rule)."""
    global _psl
    if _psl is None:
        with _lock:
            if _psl is None:
                _psl = PublicSuffixList(
                    _rules_with_punycode(), accept_unknown=True, accept_encoded_idn=False, only_icann=False
                )
    return _psl


def list_version() -> str:
    """The bundled list's own ``VERSION`` header (e.g. ``2026-10-22_08-36-41_UTC``), or else
    `PACKAGE_VERSION`."""
    global _version
    if _version is None:
        found = PACKAGE_VERSION
        try:
            with open(publicsuffixlist.PSLFILE, encoding="utf-8") as source:
                for _, line in zip(range(40), source, strict=False):
                    match = _VERSION_LINE.match(line)
                    if match:
                        found = match.group(1)
                        break
        except OSError:
            pass
        _version = found
    return _version


def is_ip_host(host: str) -> bool:
    """Whether `host` is an IPv4 address or an IPv6 address (bracketed, as in URLs, or bare)."""
    inner = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" not in inner and not inner.replace(".", "").isdecimal():
        return False  # neither IPv6 nor dotted decimal: no need for ipaddress's exception (per filing)
    try:
        ipaddress.ip_address(inner)
    except ValueError:
        return False
    return True


def _normalized(host: str) -> str | None:
    """Lower-case ASCII labels without a trailing dot; None if the host has an empty label or a
    label that cannot be Punycode."""
    if host.endswith("."):
        host = host[:-1]
    if host.isascii():
        labels = host.lower().split(".")
    else:
        labels = []
        for label in _IDNA_DOTS.split(host):
            try:
                labels.append(label.lower() if label.isascii() else encodings.idna.ToASCII(label).decode())
            except UnicodeError:
                return None
    if "" in labels:
        return None
    return ".".join(labels)


def registrable_domain(host: str) -> str | None:
    """The registrable domain (eTLD+1) of `host`, or None if it has none.

    None for a public suffix (``co.jp``, ``github.io``, ``test.ck``), a single label under no
    listed suffix (``localhost``), a malformed host (an empty label) and an IP address.

    >>> registrable_domain("a.b.alice.github.io"), registrable_domain("www.ck")
    ('alice.github.io', 'www.ck')
    """
    if is_ip_host(host):
        return None
    name = _normalized(host)
    if name is None:
        return None
    return _list().privatesuffix(name)


def public_suffix(host: str) -> str | None:
    """The longest public suffix `host` ends in (its last label if no listed suffix fits), or None
    for an IP address or a malformed host.

    >>> public_suffix("www.example.co.jp"), public_suffix("intranet")
    ('co.jp', 'intranet')
    """
    if is_ip_host(host):
        return None
    name = _normalized(host)
    if name is None:
        return None
    return _list().publicsuffix(name)


@functools.lru_cache(maxsize=8192)
def is_public_suffix(host: str) -> bool:
    """Whether `host` is a public suffix or otherwise has no registrable domain (IP addresses: no).

    Kept per host (the list never changes in a running process): every URL of every filing asks."""
    return not is_ip_host(host) and registrable_domain(host) is None


def refuse_public_suffix(host: str) -> None:
    """Raise `PublicSuffixHost` unless `host` is a registrable domain, below one, or an IP address.

    >>> try:
    ...     refuse_public_suffix("co.jp")
    ... except PublicSuffixHost as exc:
    ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
    co.jp is a public suffix (Public Suffix List): a claim must name a registrable domain
    such as example.co.jp or something below it
    """
    if not is_public_suffix(host):
        return
    name = _normalized(host)
    if name is None:
        raise PublicSuffixHost(host, f"{host!r} has no registrable domain: it is not a valid host name")
    shown = _with_unicode(name)
    if _list().publicsuffix(name, accept_unknown=False) == name:
        raise PublicSuffixHost(
            host,
            f"{shown} is a public suffix (Public Suffix List): a claim must name a registrable domain "
            f"such as example.{name} or something below it",
        )
    raise PublicSuffixHost(
        host,
        f"{shown} has no registrable domain (it is not under any suffix of the Public Suffix List): "
        "a claim must name a registrable domain such as example.com or something below it",
    )


def _with_unicode(name: str) -> str:
    """`name`, followed by its Unicode form in parentheses when it holds Punycode labels."""
    if "xn--" not in name:
        return name
    try:
        readable = ".".join(encodings.idna.ToUnicode(label) for label in name.split("."))
    except UnicodeError:
        return name
    return name if readable == name else f"{name} ({readable})"
