"""SSRF: article-page fetches never connect to a non-public address (issue 4, DESIGN §6).

The allowed test server is a FeedServer on 127.0.0.3 (the only allowlisted address). Canary
listeners on 127.0.0.2, 127.0.0.1 and ::1 share one port and record every connection they
accept; every vector aims at that port (directly, by a name, or through redirects from the
allowed server), and no vector may reach a canary. Names are answered by a stub resolver
(numeric forms such as ``0x7f000002`` are parsed the way getaddrinfo does), so no DNS query
and no packet ever leaves loopback. No Kafka needed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from pipeline.config import PollerSettings
from pipeline.errors import FeedRejected, FetchError
from pipeline.fulltext.fetch import PageFetcher
from pipeline.fulltext.guard import AddressPolicy, ForbiddenDestination, is_public_address
from pipeline.poller.politeness import HostLimiter
from tests.integration.feedserver import FeedServer, Route

pytestmark = pytest.mark.integration

ALLOWED_HOST = "127.0.0.3"  # not 127.0.0.1, so every spelling of 127.0.0.1 must be refused
PUBLIC = "93.184.216.34"  # only ever handed out to a "check", never to the connector
PAGE = b"<!doctype html><html><head><title>Story</title></head><body><p>Text.</p></body></html>"
SETTINGS = PollerSettings(timeout=5.0, connect_timeout=2.0, max_redirects=5)


# -- canaries -------------------------------------------------------------------------------------
class Canary:
    """A TCP listener that records (and drops) every connection it accepts."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._sock.settimeout(0.05)
        self.address = sock.getsockname()[0]
        self.connections: list[tuple[str, object]] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, peer = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append((self.address, peer))
            conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._sock.close()


@dataclass
class Canaries:
    port: int
    listeners: list[Canary]

    @property
    def connections(self) -> list[tuple[str, object]]:
        return [c for listener in self.listeners for c in listener.connections]


def _listen(host: str, port: int) -> socket.socket | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError:
        return None


def start_canaries() -> Canaries:
    """Listeners on 127.0.0.2 (required), 127.0.0.1 and ::1 (when available), one port."""
    for _attempt in range(20):
        main = socket.create_server(("127.0.0.2", 0))
        port = main.getsockname()[1]
        loopback = _listen("127.0.0.1", port)
        if loopback is None:  # port taken there: try another one
            main.close()
            continue
        extra = [s for s in (loopback, _listen("::1", port)) if s is not None]
        return Canaries(port, [Canary(main), *(Canary(s) for s in extra)])
    raise RuntimeError("no port free on both 127.0.0.2 and 127.0.0.1")


@pytest.fixture(scope="module")
def canaries() -> Iterator[Canaries]:
    started = start_canaries()
    yield started
    for listener in started.listeners:
        listener.stop()
    assert started.connections == []


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    server = FeedServer(host=ALLOWED_HOST).start()
    yield server
    server.stop()


# -- a stub resolver ------------------------------------------------------------------------------
class StubResolver(AbstractResolver):
    """Answers names from ``names`` (a list of answers per name: the n-th call gets the n-th,
    the last repeats); anything else only if it is a numeric host, parsed like getaddrinfo does
    (``0x7f000002`` → 127.0.0.2). Never sends a DNS query. Records every answer it gave."""

    def __init__(self, names: dict[str, list[list[str]]]) -> None:
        self.names = names
        self.calls: list[tuple[str, list[str]]] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        name = host.rstrip(".").lower()
        if name in self.names:
            answers = self.names[name]
            done = sum(1 for called, _ in self.calls if called == name)
            addresses = answers[min(done, len(answers) - 1)]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
            except socket.gaierror as exc:
                raise OSError(f"stub resolver has no answer for {host!r}") from exc
            addresses = [str(info[4][0]) for info in infos]
        self.calls.append((name, addresses))
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


def stub_resolver() -> StubResolver:
    return StubResolver(
        {
            "localhost": [["127.0.0.1", "::1"]],
            "canary.test": [["127.0.0.2"]],
            "both.test": [["127.0.0.2", "::1"]],
            "mapped.test": [["::ffff:127.0.0.2"]],
            "rebind.test": [[PUBLIC], ["127.0.0.2"]],  # first answer for the "check" only
            "allowed.test": [[ALLOWED_HOST]],
            "mixed.test": [["127.0.0.2", ALLOWED_HOST]],
        }
    )


@pytest.fixture
async def pages() -> AsyncIterator[PageFetcher]:
    fetcher = PageFetcher.open(
        SETTINGS,
        HostLimiter(concurrency=2, rate=1000.0),
        policy=AddressPolicy.allowing(f"{ALLOWED_HOST}/32"),
        resolver=stub_resolver(),
    )
    yield fetcher
    await fetcher.close()


# -- the vectors ----------------------------------------------------------------------------------
# {C}: the canaries' port, {S}: the allowed server's port. Expected: the error class and a regex.
REFUSED = (ForbiddenDestination, r"refused non-public address")
NON_CANONICAL = (FeedRejected, r"invalid URL|refused non-public address")  # aiohttp or the guard
SCHEME = (FeedRejected, r"non-http")


def vector(name: str, url: str, expected: tuple[type[Exception], str]) -> object:
    return pytest.param(url, None, expected, id=name)


def redirect(name: str, status: int, location: str, expected: tuple[type[Exception], str]) -> object:
    """The allowed server answers /r/NAME with STATUS and Location: LOCATION."""
    return pytest.param(
        f"http://{ALLOWED_HOST}:{{S}}/r/{name}", (f"/r/{name}", status, location), expected, id=name
    )


VECTORS = [
    # literal spellings of 127.0.0.2
    vector("dotted-127.0.0.2", "http://127.0.0.2:{C}/", REFUSED),
    vector("https-127.0.0.2", "https://127.0.0.2:{C}/", REFUSED),
    vector("three-part-127.0.2", "http://127.0.2:{C}/", NON_CANONICAL),
    vector("decimal-2130706434", "http://2130706434:{C}/", NON_CANONICAL),
    vector("hex-0x7f000002", "http://0x7f000002:{C}/", REFUSED),
    vector("octal-0177.0.0.2", "http://0177.0.0.2:{C}/", NON_CANONICAL),
    vector("octal-017700000002", "http://017700000002:{C}/", NON_CANONICAL),
    vector("trailing-dot-127.0.0.2.", "http://127.0.0.2.:{C}/", NON_CANONICAL),
    vector("ipv4-mapped-dotted", "http://[::ffff:127.0.0.2]:{C}/", REFUSED),
    vector("ipv4-mapped-hex", "http://[::ffff:7f00:2]:{C}/", REFUSED),
    vector("ipv4-compatible", "http://[::127.0.0.2]:{C}/", REFUSED),
    # the spellings of 127.0.0.1 (not allowlisted here; a canary listens there)
    vector("short-127.1", "http://127.1:{C}/", NON_CANONICAL),
    vector("decimal-2130706433", "http://2130706433:{C}/", NON_CANONICAL),
    vector("hex-0x7f000001", "http://0x7f000001:{C}/", REFUSED),
    vector("hex-dotted-0x7f.1", "http://0x7f.1:{C}/", REFUSED),
    vector("ipv4-mapped-127.0.0.1", "http://[::ffff:127.0.0.1]:{C}/", REFUSED),
    vector("unspecified-0.0.0.0", "http://0.0.0.0:{C}/", REFUSED),
    vector("ipv6-loopback", "http://[::1]:{C}/", REFUSED),
    vector("ipv6-unspecified", "http://[::]:{C}/", REFUSED),
    vector("ipv6-loopback-zone-id", "http://[::1%25lo]:{C}/", REFUSED),
    vector("ipv6-link-local-zone-id", "http://[fe80::1%25lo]:{C}/", REFUSED),
    # names
    vector("localhost", "http://localhost:{C}/", REFUSED),
    vector("localhost-trailing-dot", "http://LOCALHOST.:{C}/", REFUSED),
    vector("name-to-127.0.0.2", "http://canary.test:{C}/", REFUSED),
    vector("name-to-two-private", "http://both.test:{C}/", REFUSED),
    vector("name-to-ipv4-mapped", "http://mapped.test:{C}/", REFUSED),
    # userinfo and parser tricks
    vector("userinfo-allowed@canary", f"http://{ALLOWED_HOST}:{{S}}@127.0.0.2:{{C}}/", REFUSED),
    vector("fragment-@allowed", f"http://127.0.0.2:{{C}}#@{ALLOWED_HOST}:{{S}}/", REFUSED),
    vector("query-@allowed", f"http://127.0.0.2:{{C}}?@{ALLOWED_HOST}:{{S}}/", REFUSED),
    vector(
        "backslash-@allowed", f"http://127.0.0.2:{{C}}\\@{ALLOWED_HOST}:{{S}}/", (FeedRejected, "invalid URL")
    ),
    vector("empty-authority", "http:///127.0.0.2:{C}/", SCHEME),
    # other schemes
    vector("file", "file:///etc/passwd", SCHEME),
    vector("ftp", "ftp://127.0.0.2:{C}/", SCHEME),
    vector("gopher", "gopher://127.0.0.2:{C}/_GET%20/", SCHEME),
    vector("data", "data:text/html,<p>hi</p>", SCHEME),
    vector("javascript", "javascript:alert(1)", SCHEME),
    # redirects from the allowed server
    redirect("301-to-canary", 301, "http://127.0.0.2:{C}/", REFUSED),
    redirect("302-to-localhost", 302, "http://localhost:{C}/", REFUSED),
    redirect("307-to-ipv6-loopback", 307, "http://[::1]:{C}/", REFUSED),
    redirect("308-to-0.0.0.0", 308, "http://0.0.0.0:{C}/", REFUSED),
    redirect("303-to-name", 303, "http://canary.test:{C}/x", REFUSED),
    redirect("302-to-decimal", 302, "http://2130706434:{C}/", NON_CANONICAL),
    redirect("302-to-hex", 302, "http://0x7f000002:{C}/", REFUSED),
    redirect("302-to-ipv4-mapped", 302, "http://[::ffff:127.0.0.2]:{C}/", REFUSED),
    redirect("301-network-path-relative", 301, "//127.0.0.2:{C}/x", REFUSED),
    redirect("302-via-relative-hop", 302, "/r/301-to-canary", REFUSED),
    redirect("302-to-file", 302, "file:///etc/passwd", SCHEME),
    redirect("302-to-ftp", 302, "ftp://127.0.0.2:{C}/", SCHEME),
    redirect("302-to-gopher", 302, "gopher://127.0.0.2:{C}/_GET%20/", SCHEME),
    redirect("307-loop-too-long", 307, "/r/307-loop-too-long", (FeedRejected, "more than 5 redirects")),
]


def install_redirects(server: FeedServer, port: int) -> None:
    for param in VECTORS:
        _url, hop, _expected = param.values  # type: ignore[attr-defined]
        if hop is not None:
            path, status, location = hop
            server.routes[path] = Route(status=status, location=location.format(C=port, S=server.port))


@pytest.mark.parametrize(("url", "hop", "expected"), VECTORS)
async def test_vector_never_reaches_a_canary(
    pages: PageFetcher,
    canaries: Canaries,
    server: FeedServer,
    url: str,
    hop: tuple[str, int, str] | None,
    expected: tuple[type[Exception], str],
) -> None:
    install_redirects(server, canaries.port)
    error, message = expected
    with pytest.raises(error, match=message) as caught:
        await pages.fetch(url.format(C=canaries.port, S=server.port))
    assert isinstance(caught.value, FetchError)
    assert canaries.connections == []


def test_there_are_at_least_thirty_vectors() -> None:
    assert len(VECTORS) >= 30


async def test_too_long_redirect_chain_stops_at_the_limit(
    pages: PageFetcher, canaries: Canaries, server: FeedServer
) -> None:
    server.routes["/loop"] = Route(status=302, location="/loop")
    with pytest.raises(FeedRejected, match="redirects"):
        await pages.fetch(server.url("/loop"))
    assert len(server.requests_for("/loop")) == SETTINGS.max_redirects + 1


async def test_rebinding_between_check_and_connect_is_refused(canaries: Canaries) -> None:
    """A name that is public when checked and loopback when connected: only the connect counts."""
    resolver = stub_resolver()
    fetcher = PageFetcher.open(
        SETTINGS,
        HostLimiter(1, 1000.0),
        policy=AddressPolicy.allowing(f"{ALLOWED_HOST}/32"),
        resolver=resolver,
    )
    try:
        checked = await resolver.resolve("rebind.test", canaries.port)  # what a naive check sees
        assert [r["host"] for r in checked] == [PUBLIC]
        assert is_public_address(ipaddress.ip_address(PUBLIC))
        with pytest.raises(ForbiddenDestination, match=r"127\.0\.0\.2"):
            await fetcher.fetch(f"http://rebind.test:{canaries.port}/")
    finally:
        await fetcher.close()
    # The public answer went to the check only; the connector got (and refused) loopback.
    assert resolver.calls == [("rebind.test", [PUBLIC]), ("rebind.test", ["127.0.0.2"])]
    assert canaries.connections == []


async def test_without_an_allowlist_even_the_test_server_is_refused(
    canaries: Canaries, server: FeedServer
) -> None:
    server.routes["/page"] = Route(PAGE)
    before = len(server.requests)
    fetcher = PageFetcher.open(SETTINGS, HostLimiter(1, 1000.0), resolver=stub_resolver())
    try:
        for url in (server.url("/page"), f"http://allowed.test:{server.port}/page"):
            with pytest.raises(ForbiddenDestination, match=re.escape(ALLOWED_HOST)):
                await fetcher.fetch(url)
    finally:
        await fetcher.close()
    assert len(server.requests) == before


async def test_control_an_open_policy_would_reach_the_canaries(server: FeedServer) -> None:
    """The harness can fail: with every address allowlisted, the same vectors do connect."""
    own = start_canaries()
    install_redirects(server, own.port)
    fetcher = PageFetcher.open(
        SETTINGS,
        HostLimiter(2, 1000.0),
        policy=AddressPolicy.allowing("0.0.0.0/0", "::/0"),
        resolver=stub_resolver(),
    )
    try:
        for url in (
            "http://127.0.0.2:{C}/",
            "http://0x7f000001:{C}/",
            "http://canary.test:{C}/",
            "http://[::ffff:127.0.0.2]:{C}/",
            f"http://{ALLOWED_HOST}:{{S}}/r/301-to-canary",
        ):
            with pytest.raises(FetchError):  # the canary hangs up: not a page, but a connection
                await fetcher.fetch(url.format(C=own.port, S=server.port))
    finally:
        await fetcher.close()
        for listener in own.listeners:
            listener.stop()
    reached = {address for address, _peer in own.connections}
    assert {"127.0.0.2", "127.0.0.1"} <= reached


async def test_production_resolver_numeric_forms_are_refused(canaries: Canaries) -> None:
    """aiohttp's own resolver (getaddrinfo parses these numerically: no DNS query)."""
    fetcher = PageFetcher.open(SETTINGS, HostLimiter(1, 1000.0))
    try:
        for host in ("0x7f000002", "0x7f.1", "127.0.0.2", "[::1]"):
            with pytest.raises(ForbiddenDestination):
                await fetcher.fetch(f"http://{host}:{canaries.port}/")
    finally:
        await fetcher.close()
    assert canaries.connections == []


# -- what must still work -------------------------------------------------------------------------
async def test_allowed_server_page_is_fetched(pages: PageFetcher, server: FeedServer) -> None:
    server.routes["/story"] = Route(PAGE)
    server.routes["/moved"] = Route(status=301, location="/story")
    result = await pages.fetch(server.url("/moved"))
    assert result.status == 200 and result.body == PAGE
    assert result.url == server.url("/story")
    assert server.requests_for("/story")[-1].headers["accept"].startswith("text/html")


async def test_multi_address_answer_skips_the_refused_address(
    pages: PageFetcher, canaries: Canaries, server: FeedServer
) -> None:
    server.routes["/story"] = Route(PAGE)
    result = await pages.fetch(f"http://mixed.test:{server.port}/story")
    assert result.body == PAGE
    assert canaries.connections == []


async def test_page_size_is_capped(server: FeedServer) -> None:
    server.routes["/big"] = Route(b"x" * 10_000)
    fetcher = PageFetcher.open(
        SETTINGS, HostLimiter(1, 1000.0), policy=AddressPolicy.allowing(f"{ALLOWED_HOST}/32"), max_bytes=4096
    )
    try:
        with pytest.raises(FeedRejected, match="larger than 4096"):
            await fetcher.fetch(server.url("/big"))
    finally:
        await fetcher.close()


async def test_per_host_politeness_applies(server: FeedServer) -> None:
    """Two fetches to one host with a limiter of concurrency 1: the second waits for the first."""
    server.routes["/slow"] = Route(PAGE, delay=0.3)
    fetcher = PageFetcher.open(
        SETTINGS, HostLimiter(1, 1000.0), policy=AddressPolicy.allowing(f"{ALLOWED_HOST}/32")
    )
    try:
        began = time.monotonic()
        await asyncio.gather(fetcher.fetch(server.url("/slow")), fetcher.fetch(server.url("/slow")))
    finally:
        await fetcher.close()
    first, second = sorted(r.started for r in server.requests_for("/slow")[-2:])
    assert second - first >= 0.29
    assert time.monotonic() - began >= 0.6
