"""``/healthz`` (liveness) and ``/readyz`` (readiness) on the worker's web server, and a timer
that keeps ``newsflow_ready`` current when nobody probes."""

from __future__ import annotations

import faust
from faust.web import Request, Response, View

from pipeline.health import Readiness, liveness

REFRESH_SECONDS = 15.0


def register(app: faust.App, readiness: Readiness) -> None:
    @app.page("/healthz")
    async def healthz(view: View, _request: Request) -> Response:
        # Answering at all is the signal: the event loop runs and the web server serves.
        return view.json(liveness(role="worker"))

    @app.page("/readyz")
    async def readyz(view: View, _request: Request) -> Response:
        report = await readiness.report()
        return view.json(report.to_json(), status=report.status)

    @app.task  # type: ignore[untyped-decorator]
    async def check_readiness_at_start() -> None:
        await readiness.report()  # newsflow_ready{check} exists from the start, measured

    @app.timer(REFRESH_SECONDS)  # type: ignore[untyped-decorator]
    async def refresh_readiness() -> None:
        await readiness.report()
