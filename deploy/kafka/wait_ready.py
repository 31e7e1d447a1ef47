"""Wait until a Kafka broker answers a Metadata request listing a broker.

Usage: wait_ready.py HOST:PORT [TIMEOUT_S]. In KRaft the broker enables its client
listener only after the controller reports it caught up, so an answered Metadata request
listing a broker means it can serve clients.
"""

import asyncio
import logging
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


async def wait_ready(bootstrap: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            info = await admin.describe_cluster()
            if info.get("brokers"):
                return info
        except Exception as exc:  # connection refused while the JVM starts
            last = exc
        finally:
            await admin.close()
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Kafka at {bootstrap} not ready after {timeout}s: {last!r}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)  # silence aiokafka's connect errors while polling
    started = time.monotonic()
    try:
        info = asyncio.run(wait_ready(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 60.0))
    except TimeoutError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    print(
        f"kafka ready on {sys.argv[1]} in {time.monotonic() - started:.1f}s "
        f"(cluster {info.get('cluster_id')})"
    )
