"""A lean, bounded HTTP/1.1 load generator for the benchmarks.

On a two-core machine the load generator shares the CPU with the server and its database, so what it
spends is taken from what is measured: httpx spends about 2 ms of CPU per request, this about 0.2 ms.
It keeps ``concurrency`` keep-alive connections, each sending its next request as soon as the last
answer is read, until the deadline; answers are read whole (Content-Length or chunked).

Connections open 50 ms apart, as clients arrive. Opened in one burst they would all land on one of the
server's workers (asyncio accepts a whole burst in one wake-up), which measures that race rather than
the server.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Outcome:
    """Latencies in seconds of the answers per path, split by success (2xx) and failure."""

    ok: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, list[float]] = field(default_factory=dict)


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """Read one response; its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while (size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)) > 0:
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return status


async def run_load(base: str, headers: dict[str, str], paths: list[str], seconds: float,
                   concurrency: int) -> Outcome:
    """``concurrency`` connections cycle through ``paths`` for ``seconds``; every answer is timed."""
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = {p: f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for p in paths}
    outcome = Outcome({p: [] for p in paths}, {p: [] for p in paths})
    deadline = time.perf_counter() + seconds

    async def connection(offset: int) -> None:
        await asyncio.sleep(offset * 0.05)
        reader, writer = await asyncio.open_connection(host, port)
        try:
            k = offset
            while time.perf_counter() < deadline:
                path = paths[k % len(paths)]
                k += 1
                started = time.perf_counter()
                writer.write(requests[path])
                status = await _read_answer(reader)
                (outcome.ok if 200 <= status < 300 else outcome.failed)[path].append(time.perf_counter() - started)
        finally:
            writer.close()

    await asyncio.gather(*(connection(i) for i in range(concurrency)))
    return outcome
