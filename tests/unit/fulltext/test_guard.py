"""The SSRF address classifier and the socket-factory guard. Classifier only: no traffic."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from pipeline.errors import FeedRejected
from pipeline.fulltext.guard import (
    PUBLIC_ONLY,
    REFUSED_NETWORKS,
    AddressGuard,
    AddressPolicy,
    ForbiddenDestination,
    RefusedAddress,
    is_public_address,
)

REFUSED = [
    # IPv4
    pytest.param("0.0.0.0", id="this-network-unspecified"),
    pytest.param("0.1.2.3", id="this-network"),
    pytest.param("10.0.0.1", id="private-10"),
    pytest.param("10.255.255.255", id="private-10-top"),
    pytest.param("100.64.0.1", id="cgnat-bottom"),
    pytest.param("100.127.255.254", id="cgnat-top"),
    pytest.param("127.0.0.1", id="loopback"),
    pytest.param("127.0.0.2", id="loopback-canary"),
    pytest.param("127.255.255.254", id="loopback-top"),
    pytest.param("169.254.169.254", id="link-local-metadata"),
    pytest.param("169.254.0.1", id="link-local"),
    pytest.param("172.16.0.1", id="private-172.16"),
    pytest.param("172.31.255.254", id="private-172.31"),
    pytest.param("192.0.0.8", id="ietf-protocol-assignments"),
    pytest.param("192.0.0.171", id="ietf-dns64-discovery"),
    pytest.param("192.0.2.1", id="test-net-1"),
    pytest.param("192.88.99.1", id="6to4-relay-anycast"),
    pytest.param("192.168.1.1", id="private-192.168"),
    pytest.param("198.18.0.1", id="benchmarking"),
    pytest.param("198.19.255.254", id="benchmarking-top"),
    pytest.param("198.51.100.7", id="test-net-2"),
    pytest.param("203.0.113.9", id="test-net-3"),
    pytest.param("224.0.0.1", id="multicast-local"),
    pytest.param("239.255.255.250", id="multicast-ssdp"),
    pytest.param("240.0.0.1", id="reserved"),
    pytest.param("255.255.255.255", id="limited-broadcast"),
    # IPv6
    pytest.param("::", id="v6-unspecified"),
    pytest.param("::1", id="v6-loopback"),
    pytest.param("::127.0.0.2", id="v4-compatible-loopback"),
    pytest.param("::8.8.8.8", id="v4-compatible-public"),
    pytest.param("::ffff:127.0.0.1", id="v4-mapped-loopback"),
    pytest.param("::ffff:10.0.0.1", id="v4-mapped-private"),
    pytest.param("::ffff:169.254.169.254", id="v4-mapped-metadata"),
    pytest.param("::ffff:8.8.8.8", id="v4-mapped-public-refused-too"),
    pytest.param("64:ff9b::7f00:1", id="nat64-loopback"),
    pytest.param("64:ff9b::a00:1", id="nat64-private"),
    pytest.param("64:ff9b::808:808", id="nat64-public-refused-too"),
    pytest.param("64:ff9b:1::1", id="nat64-local-use"),
    pytest.param("100::1", id="discard-only"),
    pytest.param("2001::1", id="teredo"),
    pytest.param("2001:0:4136:e378:8000:63bf:3fff:fdd2", id="teredo-real-shape"),
    pytest.param("2001:2::1", id="benchmarking-v6"),
    pytest.param("2001:10::1", id="orchid"),
    pytest.param("2001:db8::1", id="documentation-v6"),
    pytest.param("3fff::1", id="documentation-v6-rfc9637"),
    pytest.param("2002:7f00:1::1", id="6to4-loopback"),
    pytest.param("2002:c000:204::1", id="6to4-public-refused-too"),
    pytest.param("fc00::1", id="unique-local-fc"),
    pytest.param("fd12:3456:789a::1", id="unique-local-fd"),
    pytest.param("fe80::1", id="link-local-v6"),
    pytest.param("fe80::1%eth0", id="link-local-v6-zone"),
    pytest.param("febf::1", id="link-local-v6-top"),
    pytest.param("fec0::1", id="site-local"),
    pytest.param("ff02::1", id="multicast-link"),
    pytest.param("ff0e::1", id="multicast-global"),
    pytest.param("4000::1", id="outside-global-unicast"),
]

PUBLIC = [
    pytest.param("8.8.8.8", id="google-dns"),
    pytest.param("1.1.1.1", id="cloudflare-dns"),
    pytest.param("93.184.216.34", id="example.com"),
    pytest.param("151.101.1.69", id="fastly"),
    pytest.param("100.63.255.255", id="just-below-cgnat"),
    pytest.param("100.128.0.0", id="just-above-cgnat"),
    pytest.param("172.15.255.255", id="just-below-172.16"),
    pytest.param("172.32.0.0", id="just-above-172.31"),
    pytest.param("192.0.3.1", id="just-above-test-net-1"),
    pytest.param("223.255.255.254", id="just-below-multicast"),
    pytest.param("2606:4700:4700::1111", id="cloudflare-v6"),
    pytest.param("2001:4860:4860::8888", id="google-v6"),
    pytest.param("2a00:1450:4001:82b::200e", id="google-web-v6"),
    pytest.param("2001:200::1", id="just-above-2001::/23"),
]


@pytest.mark.parametrize("address", REFUSED)
def test_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))
    assert not PUBLIC_ONLY.permits(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))
    assert PUBLIC_ONLY.permits(ipaddress.ip_address(address))


def test_the_table_is_the_documented_one() -> None:
    assert len(REFUSED_NETWORKS) == len(set(REFUSED_NETWORKS))
    assert ipaddress.ip_network("100.64.0.0/10") in REFUSED_NETWORKS
    assert ipaddress.ip_network("64:ff9b::/96") in REFUSED_NETWORKS
    assert ipaddress.ip_network("2002::/16") in REFUSED_NETWORKS


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("224.0.0.1", id="v4-multicast"),
        pytest.param("192.88.99.1", id="6to4-relay"),
        pytest.param("64:ff9b::7f00:1", id="nat64"),
        pytest.param("2002:7f00:1::1", id="6to4"),
        pytest.param("fec0::1", id="site-local"),
        pytest.param("::127.0.0.2", id="v4-compatible"),
    ],
)
def test_refused_although_python_calls_it_global(address: str) -> None:
    """Why the explicit table exists: ``is_global`` says yes to these (Python 3.11)."""
    ip = ipaddress.ip_address(address)
    assert not is_public_address(ip)
    if not ip.is_global:
        pytest.skip(f"this Python already says {address} is not global")


ALLOW = [
    pytest.param("127.0.0.1", ("127.0.0.1/32",), True, id="allowlisted-exact"),
    pytest.param("127.0.0.2", ("127.0.0.1/32",), False, id="neighbour-not-allowlisted"),
    pytest.param("10.1.2.3", ("10.0.0.0/8",), True, id="allowlisted-network"),
    pytest.param("::ffff:127.0.0.1", ("127.0.0.1/32",), False, id="mapped-form-not-allowlisted"),
    pytest.param("::1", ("127.0.0.1/32",), False, id="other-family-not-allowlisted"),
    pytest.param("::1", ("::1/128",), True, id="v6-allowlisted"),
    pytest.param("8.8.8.8", ("127.0.0.1/32",), True, id="public-still-permitted"),
    pytest.param("10.0.0.1", (), False, id="empty-allowlist"),
]


@pytest.mark.parametrize(("address", "allow", "permitted"), ALLOW)
def test_allowlist(address: str, allow: tuple[str, ...], permitted: bool) -> None:
    assert AddressPolicy.allowing(*allow).permits(ipaddress.ip_address(address)) is permitted


# -- the socket factory ---------------------------------------------------------------------------
INET, INET6, STREAM, TCP = socket.AF_INET, socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP

GUARD_REFUSES = [
    pytest.param((INET, STREAM, TCP, "", ("127.0.0.2", 80)), id="loopback"),
    pytest.param((INET6, STREAM, TCP, "", ("::1", 80, 0, 0)), id="v6-loopback"),
    pytest.param((INET6, STREAM, TCP, "", ("fe80::1", 80, 0, 1)), id="v6-link-local-scoped"),
    pytest.param((INET, STREAM, TCP, "", ("localhost", 80)), id="name-not-address"),
    pytest.param((INET, STREAM, TCP, "", ("127.1", 80)), id="non-canonical-literal"),
    pytest.param((INET, STREAM, TCP, "", ("2130706434", 80)), id="decimal-literal"),
    pytest.param((INET6, STREAM, TCP, "", ("8.8.8.8", 80, 0, 0)), id="family-mismatch"),
    pytest.param((socket.AF_UNIX, STREAM, 0, "", ("/run/docker.sock",)), id="unix-socket"),
]


@pytest.mark.parametrize("addr_info", GUARD_REFUSES)
def test_guard_refuses_before_creating_a_socket(addr_info: tuple) -> None:  # type: ignore[type-arg]
    guard = AddressGuard(PUBLIC_ONLY)
    with pytest.raises(RefusedAddress) as caught:
        guard(addr_info)
    assert isinstance(caught.value, OSError)
    assert caught.value.address == str(addr_info[4][0])
    assert str(caught.value) == "refused non-public address"  # equal for every address


def test_guard_creates_a_socket_for_a_permitted_address() -> None:
    """Only a socket is created (never connected): the caller connects it."""
    guard = AddressGuard(PUBLIC_ONLY)
    sock = guard((INET, STREAM, TCP, "", ("93.184.216.34", 443)))
    try:
        assert sock.family == INET and sock.type == STREAM
    finally:
        sock.close()


def test_forbidden_destination_is_a_rejection_with_its_own_outcome() -> None:
    assert issubclass(ForbiddenDestination, FeedRejected)
    assert ForbiddenDestination.outcome == "forbidden"
