"""Our HTTP client against a real local server: conditional GET, caps, deadlines, redirects."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import PollerSettings
from pipeline.errors import FeedGone, FeedRejected, RateLimited, Unavailable
from pipeline.poller.fetcher import Fetcher, Validators
from tests.integration.feedserver import FeedServer, Route

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


def fetch(url: str, validators: Validators | None = None, **settings: object):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        fetcher = Fetcher.open(PollerSettings(**settings))  # type: ignore[arg-type]
        try:
            return await fetcher.fetch(url, validators or Validators())
        finally:
            await fetcher.close()

    return asyncio.run(go())


def test_conditional_get_round_trip(server: FeedServer) -> None:
    server.routes["/f"] = Route(FEED)
    first = fetch(server.url("/f"))
    assert first.status == 200 and first.body == FEED
    assert first.validators.etag
    second = fetch(server.url("/f"), first.validators)
    assert second.not_modified and second.body == b""
    assert server.requests_for("/f")[1].headers["if-none-match"] == first.validators.etag


def test_user_agent_and_encoding_are_announced(server: FeedServer) -> None:
    server.routes["/f"] = Route(FEED)
    fetch(server.url("/f"), user_agent="newsflow-test (+https://example.org/contact)")
    headers = server.requests_for("/f")[0].headers
    assert headers["user-agent"] == "newsflow-test (+https://example.org/contact)"
    assert "gzip" in headers["accept-encoding"]


def test_decompression_bomb_is_cut_at_the_cap(server: FeedServer) -> None:
    server.routes["/bomb"] = Route(gzip_bomb=64 * 1024 * 1024)  # 64 MiB of zeros, ~64 KiB on the wire
    with pytest.raises(FeedRejected, match="larger than"):
        fetch(server.url("/bomb"), max_body_bytes=1024 * 1024)


BOMB_PROBE = """
import asyncio, sys
from pipeline.config import PollerSettings
from pipeline.errors import FeedRejected
from pipeline.poller.fetcher import Fetcher

def status_kib(field):
    # VmHWM (peak) belongs to this process image; ru_maxrss would also count the forked
    # parent's pages from before exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])

async def main():
    fetcher = Fetcher.open(PollerSettings())  # the default cap: 15 MiB decompressed
    before = status_kib("VmRSS")
    try:
        await fetcher.fetch(sys.argv[1])
        print("fetched", 0)
    except FeedRejected as exc:
        print("rejected", status_kib("VmHWM") - before, exc)
    finally:
        await fetcher.close()

asyncio.run(main())
"""


def test_one_gib_gzip_bomb_is_aborted_with_bounded_memory(server: FeedServer) -> None:
    server.routes["/gib"] = Route(gzip_bomb=1 << 30)  # 1 GiB of zeros, ~1 MiB on the wire
    result = subprocess.run(
        [sys.executable, "-c", BOMB_PROBE, server.url("/gib")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    outcome, growth_kib, *reason = result.stdout.split(maxsplit=2)
    assert outcome == "rejected", result.stdout + result.stderr
    assert "larger than" in " ".join(reason)
    assert int(growth_kib) < 64 * 1024, f"RSS grew by {int(growth_kib) // 1024} MiB"


def test_brotli_bodies_are_decoded(server: FeedServer) -> None:
    server.routes["/br"] = Route(FEED, encoding="br")
    result = fetch(server.url("/br"))
    assert result.body == FEED
    assert "br" in server.requests_for("/br")[0].headers["accept-encoding"]


def test_trickling_server_is_cut_off_by_the_total_deadline(server: FeedServer) -> None:
    server.routes["/slow"] = Route(FEED * 10, trickle=0.05)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="within"):
        fetch(server.url("/slow"), timeout=1.5)
    assert time.monotonic() - started < 4


def test_redirects_are_followed_and_permanent_ones_reported(server: FeedServer) -> None:
    server.routes["/old"] = Route(status=301, location="/new")
    server.routes["/new"] = Route(FEED)
    result = fetch(server.url("/old"))
    assert result.url == server.url("/new")
    assert result.permanent_redirect == server.url("/new")


def test_temporary_redirect_is_not_a_move(server: FeedServer) -> None:
    server.routes["/tmp"] = Route(status=302, location="/new")
    server.routes["/new"] = Route(FEED)
    assert fetch(server.url("/tmp")).permanent_redirect is None


def test_redirect_loops_stop(server: FeedServer) -> None:
    server.routes["/loop"] = Route(status=302, location="/loop")
    with pytest.raises(FeedRejected, match="redirects"):
        fetch(server.url("/loop"), max_redirects=3)
    assert len(server.requests_for("/loop")) == 4


def test_redirect_to_another_scheme_is_refused(server: FeedServer) -> None:
    server.routes["/evil"] = Route(status=302, location="file:///etc/passwd")
    with pytest.raises(FeedRejected, match="non-http"):
        fetch(server.url("/evil"))


STATUSES = [
    ("429 with seconds", 429, {"Retry-After": "120"}, RateLimited, 120.0),
    ("503 with Retry-After", 503, {"Retry-After": "30"}, RateLimited, 30.0),
    ("500", 500, {}, Unavailable, None),
    ("404", 404, {}, FeedRejected, None),
    ("410", 410, {}, FeedGone, None),
]


@pytest.mark.parametrize(
    ("name", "status", "headers", "error", "retry_after"), STATUSES, ids=[c[0] for c in STATUSES]
)
def test_statuses_are_classified(
    server: FeedServer,
    name: str,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
    retry_after: float | None,
) -> None:
    server.routes["/s"] = Route(FEED, status=status, headers=headers, etag="none")
    with pytest.raises(error) as caught:
        fetch(server.url("/s"))
    if retry_after is not None:
        assert caught.value.retry_after == retry_after  # type: ignore[attr-defined]


def test_connection_refused_is_unavailable() -> None:
    from tests.integration.conftest import free_port

    with pytest.raises(Unavailable, match="network error"):
        fetch(f"http://127.0.0.1:{free_port()}/f")
