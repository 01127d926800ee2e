"""URL validation, normalization and the address-safety rule (no fetching of internal hosts).

A news fetcher that follows URLs from feeds is a server-side request forgery risk: a feed entry
or a redirect could point at `http://127.0.0.1:6379/` or a cloud metadata endpoint. So every URL
we request -- including every redirect target -- must resolve only to public unicast addresses,
unless the operator explicitly allows private ones (`allow_private_addresses`, used by tests).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from presseschau.ingest.errors import BlockedAddress, ConnectionFailed, InvalidURL
from presseschau.messages import text
from presseschau.text import terminal_safe, unsafe_character

ALLOWED_SCHEMES = frozenset({"http", "https"})
# Query parameters that only track the click; dropping them lets the same article match itself.
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid", "icid", "smid", "dclid"})

# The width of the URL columns in the store; longer URLs are refused, not truncated.
MAX_URL_LENGTH = 2048

Resolver = Callable[[str, int], list[str]]


def validate_url(url: str) -> str:
    """`url` stripped, if it is an absolute http(s) URL with a host; else `InvalidURL`."""
    candidate = (url or "").strip()
    if len(candidate) > MAX_URL_LENGTH:
        raise InvalidURL(candidate[:80] + "…", text("url_too_long", limit=MAX_URL_LENGTH))
    if (character := unsafe_character(candidate)) is not None:
        raise InvalidURL(terminal_safe(candidate), text("url_control_character", character=character))
    try:
        parts = urlsplit(candidate)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as error:
        raise InvalidURL(candidate or text("url_empty"), text("url_invalid", problem=str(error))) from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        reason = text("url_scheme", scheme=parts.scheme) if parts.scheme else text("url_no_scheme")
        raise InvalidURL(candidate or text("url_empty"), reason)
    if not parts.hostname:
        raise InvalidURL(candidate, text("url_no_host"))
    return candidate


def normalize_url(url: str, base: str | None = None) -> str:
    """Absolute, fragment-free URL with lower-case scheme/host and without click-tracking parameters."""
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(absolute)
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    if (scheme == "http" and netloc.endswith(":80")) or (scheme == "https" and netloc.endswith(":443")):
        netloc = netloc.rsplit(":", 1)[0]
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not key.lower().startswith("utm_") and key.lower() not in _TRACKING_PARAMS
        ]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def host_key(url: str) -> str:
    """`scheme://host[:port]` -- the unit of politeness delays and robots.txt caching."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# NAT64 translates the IPv4 address in the low 32 bits of its well-known prefix (RFC 6052); the
# local-use prefix (RFC 8215) reaches whatever the local translator is set up for.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


# IPv6 forms that carry an IPv4 address a host or a tunnel may reach (`::127.0.0.1` and
# `::ffff:0:a.b.c.d` counted as public and the app connected): refused whatever they embed.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0/96")
# IANA's global unicast space; everything outside it is reserved, local or special.
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def _embeds_ipv4(ip: ipaddress.IPv6Address) -> bool:
    """Mapped, IPv4-compatible, IPv4-translated (SIIT), 6to4 and Teredo forms."""
    return (
        ip.ipv4_mapped is not None
        or ip.sixtofour is not None
        or ip.teredo is not None
        or ip in _IPV4_COMPATIBLE
        or ip in _IPV4_TRANSLATED
    )


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL or _embeds_ipv4(ip):
            return False
        if ip in _NAT64:  # DNS64 answers for IPv4-only hosts: refused like the address it embeds
            v4 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            return v4.is_global and not v4.is_multicast
        return ip in _GLOBAL_UNICAST and ip.is_global and not ip.is_multicast
    return ip.is_global and not ip.is_multicast


def check_address_allowed(
    url: str, allow_private: bool, resolver: Resolver | None = None, via_proxy: bool = False
) -> None:
    """Raise `BlockedAddress` unless every address `url`'s host resolves to is public.

    All addresses are checked, not just the first, because the HTTP client may pick any of them.
    `via_proxy`: the request goes through a configured proxy, which resolves names itself, so a
    host that does not resolve here is allowed (one that resolves to a private address is not).
    """
    validate_url(url)
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = (resolver or default_resolver)(host, port)
        except (OSError, UnicodeError) as error:
            if via_proxy:
                return
            # Not a safety refusal, but the fetch cannot proceed: report it as the client would.
            raise ConnectionFailed(url, f"cannot resolve host {host!r} ({error})") from None
    blocked = [address for address in addresses if not is_public_address(address)]
    if blocked or not addresses:
        raise BlockedAddress(
            url,
            f"host {host!r} resolves to non-public address {', '.join(blocked) or '(none)'}; "
            "private, loopback, link-local and reserved addresses are refused "
            "(set allow_private_addresses = true to permit them)",
        )
