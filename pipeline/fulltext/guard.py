"""Which addresses a page fetch may connect to (SSRF guard, DESIGN §6).

Article links come from feeds, i.e. from strangers: a link (or any redirect hop after it) may
point at the poller's own network — ``http://127.0.0.1:9464/``, the cloud metadata service at
169.254.169.254, a database on 10.0.0.5. The guard is enforced where nothing can slip past it:
aiohttp's ``socket_factory`` hook (:class:`AddressGuard`), which is handed the exact
``sockaddr`` the socket is about to be connected to. That one check therefore covers

* every redirect hop, because every new connection goes through it;
* DNS rebinding (an answer that changes between a check and the connect): there is no earlier
  check to fool — the address judged *is* the address connected to;
* literal hosts (``127.0.0.2``, ``[::ffff:7f00:2]``), which skip the resolver but not the
  socket factory, and legacy numeric forms (``2130706433``, ``0x7f000002``, ``127.1``): aiohttp
  3.14 refuses the all-digit ones as non-canonical, the resolver turns the others into a dotted
  address first, and a form that reaches the factory undecoded is not an address and refused;
* every address of a multi-address answer (happy eyeballs asks the factory for each one).

Reused keep-alive connections were checked when they were opened. The session must not use a
proxy (``trust_env=False``): through a proxy the address connected to would be the proxy's.
``socket_factory`` exists since aiohttp 3.12; an older aiohttp fails at ``TCPConnector(...)``
with a TypeError, i.e. closed, never unguarded.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from aiohttp import AddrInfoType

from pipeline.errors import FeedRejected

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Why not ``ip.is_global``: it lets through IPv4 multicast (224/4) and 192.88.99/24, and for
# IPv6 NAT64 (64:ff9b::/96 reaches any IPv4 address, private ones included, through a NAT64
# gateway), 6to4 (2002::/16, same through a relay), site-local fec0::/10, IPv4-compatible
# ::a.b.c.d and global-scope multicast; and its answers changed between Python patch releases
# (3.11.10/3.12.4 re-did the IANA tables). An explicit table says what we refuse and stays put.
# Source: the IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890 and updates).
REFUSED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        # IPv4
        "0.0.0.0/8",  # "this network"; 0.0.0.0 connects to the local host on Linux
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # carrier-grade NAT shared space (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, incl. cloud metadata 169.254.169.254
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1 documentation
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private (RFC 1918)
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2 documentation
        "203.0.113.0/24",  # TEST-NET-3 documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved
        "255.255.255.255/32",  # limited broadcast (inside 240/4; listed for the reader)
        # IPv6 (anything outside 2000::/3 is refused anyway, see is_public_address)
        "::/96",  # unspecified ::, loopback ::1 and deprecated IPv4-compatible ::a.b.c.d
        "::ffff:0:0/96",  # IPv4-mapped: refused outright, whatever IPv4 address it embeds
        "64:ff9b::/96",  # NAT64 well-known prefix (RFC 6052)
        "64:ff9b:1::/48",  # NAT64 local-use prefix (RFC 8215)
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: embeds an IPv4 address reached through a relay
        "3fff::/20",  # documentation (RFC 9637)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")


def is_public_address(ip: IPAddress) -> bool:
    """True if ``ip`` is a public unicast address a page fetch may connect to.

    IPv4: everything outside the refused table. IPv6: only global unicast (2000::/3) outside
    the refused table, so prefixes allocated in future outside 2000::/3 are refused too.
    Addresses that embed an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo)
    are refused outright rather than judged by the address they embed: public sites publish
    plain A records, so nothing legitimate is lost, and there is no translation to get wrong.
    """
    if ip.version == 6 and ip not in _GLOBAL_UNICAST_V6:
        return False
    return not any(ip in network for network in REFUSED_NETWORKS)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public addresses, plus ``allow``: networks admitted anyway.

    ``allow`` exists for tests (a local HTTP server on 127.0.0.1) and is empty in production.
    Matching is per address family: ``127.0.0.1/32`` does not admit ``::ffff:127.0.0.1``.
    """

    allow: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, *networks: str) -> AddressPolicy:
        return cls(tuple(ipaddress.ip_network(network) for network in networks))

    def permits(self, ip: IPAddress) -> bool:
        return any(ip in network for network in self.allow) or is_public_address(ip)


PUBLIC_ONLY = AddressPolicy()  # production: no exceptions


class RefusedAddress(OSError):
    """Raised by :class:`AddressGuard` instead of creating a socket.

    An ``OSError``, so aiohttp reports it as a connection error (``ClientConnectorError`` with
    this as ``os_error``) and happy eyeballs moves on to the next address. The message is the
    same for every address on purpose: when all addresses of an answer are refused,
    aiohappyeyeballs re-raises the first error only if all messages are equal, so the type
    survives; the address is kept in ``address``.
    """

    def __init__(self, address: str) -> None:
        super().__init__("refused non-public address")
        self.address = address


class ForbiddenDestination(FeedRejected):
    """A page fetch was refused because it would connect to a non-public address."""

    outcome = "forbidden"


class AddressGuard:
    """aiohttp ``socket_factory``: creates a socket only for an address the policy permits.

    Called with the getaddrinfo-style tuple ``(family, type, proto, canonname, sockaddr)``
    right before ``sock_connect(sock, sockaddr)``. ``sockaddr[0]`` must be a numeric address
    (a name there would be resolved again by asyncio, unchecked) of the socket's family.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def __call__(self, addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _canonname, sockaddr = addr_info
        host = str(sockaddr[0])
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise RefusedAddress(host) from None
        expected = socket.AF_INET if ip.version == 4 else socket.AF_INET6
        if family != expected or not self.policy.permits(ip):
            raise RefusedAddress(host)
        return socket.socket(family, type_, proto)
