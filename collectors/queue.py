"""The agent's on-disk queue: reports that could not be pushed wait here and are replayed in order.

One file per report, named by the time it was queued, written atomically. The queue is bounded:
when full, the oldest report is dropped and counted (the count persists in ``dropped.count``).
A report's file is removed only after the server accepted it; the server's ingest is idempotent by
host and time, so a report re-sent after a crash is stored once.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

_sequence = itertools.count()


class DiskQueue:
    def __init__(self, directory: Path, max_items: int = 10000) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.directory = directory
        self.max_items = max_items
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def _dropped_file(self) -> Path:
        return self.directory / "dropped.count"

    @property
    def dropped_total(self) -> int:
        return int(self._dropped_file.read_text()) if self._dropped_file.exists() else 0

    def items(self) -> list[Path]:
        return sorted(self.directory.glob("*.json"))

    def put(self, payload: str) -> int:
        """Queue ``payload``; return how many old reports had to be dropped to make room."""
        name = f"{time.time_ns():020d}-{next(_sequence):06d}-{os.getpid()}.json"
        temporary = self.directory / (name + ".tmp")
        temporary.write_text(payload, encoding="utf-8")
        temporary.rename(self.directory / name)
        items = self.items()
        excess = len(items) - self.max_items
        for path in items[:max(0, excess)]:
            path.unlink(missing_ok=True)
        if excess > 0:
            self._dropped_file.write_text(str(self.dropped_total + excess))
        return max(0, excess)

    def drain(self, send: Callable[[str], bool]) -> tuple[int, int]:
        """Send queued reports oldest first; ``send`` returns False to stop (the report stays queued).
        Returns (sent, still queued)."""
        sent = 0
        for path in self.items():
            if not send(path.read_text(encoding="utf-8")):
                break
            path.unlink(missing_ok=True)
            sent += 1
        return sent, len(self.items())
