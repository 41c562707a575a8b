"""The psutil agent measures this machine for real, and its on-disk queue keeps order and bounds."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import psutil
import pytest
from pydantic import ValidationError

from collectors.agent import collect_report
from collectors.queue import DiskQueue
from inventory.records.agent import AgentReport


def test_report_describes_this_machine() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        report = collect_report(sample_seconds=0.2)
    assert report.cpu_cores == psutil.cpu_count(logical=True)
    assert report.memory_mb == pytest.approx(psutil.virtual_memory().total / 1024**2, rel=0.01)
    assert report.disks and all(0 <= d.used_gb <= d.size_gb for d in report.disks)
    assert 0 <= report.cpu_util <= 1 and 0 < report.memory_util <= 1
    assert port in {entry.port for entry in report.listening}
    document = json.loads(report.to_json())
    assert set(document) == {"hostname", "collected_at", "os", "cpu_cores", "memory_mb", "disks", "cpu_util",
                             "memory_util", "listening", "connections"}
    assert document["collected_at"].endswith("Z")
    assert AgentReport.model_validate_json(report.to_json()) == report


@pytest.mark.parametrize(("change", "field"), [
    ({"cpu_cores": 0}, "cpu_cores"), ({"cpu_util": 1.5}, "cpu_util"), ({"collected_at": "2026-11-21T08:00:00"},
                                                                      "collected_at"),
    ({"disks": [{"mount": "/", "size_gb": -1, "used_gb": 0}]}, "size_gb")])
def test_invalid_reports_name_the_field(change: dict[str, object], field: str) -> None:
    document = json.loads(collect_report(sample_seconds=0.1).to_json()) | change
    with pytest.raises(ValidationError) as caught:
        AgentReport.model_validate(document)
    assert any(field in map(str, error["loc"]) for error in caught.value.errors())


def test_queue_replays_in_order_and_keeps_what_was_not_sent(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path / "q", max_items=10)
    for i in range(5):
        queue.put(f'{{"n": {i}}}')
    received: list[int] = []

    def send_three(payload: str) -> bool:
        if len(received) == 3:
            return False
        received.append(json.loads(payload)["n"])
        return True

    assert queue.drain(send_three) == (3, 2)
    assert received == [0, 1, 2]
    def send_all(payload: str) -> bool:
        received.append(json.loads(payload)["n"])
        return True

    assert queue.drain(send_all) == (2, 0)
    assert received == [0, 1, 2, 3, 4]


def test_full_queue_drops_the_oldest_and_counts(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path / "q", max_items=3)
    dropped = [queue.put(f'{{"n": {i}}}') for i in range(5)]
    assert dropped == [0, 0, 0, 1, 1] and queue.dropped_total == 2
    kept = [json.loads(p.read_text())["n"] for p in queue.items()]
    assert kept == [2, 3, 4]
    assert DiskQueue(tmp_path / "q", max_items=3).dropped_total == 2  # the count survives a restart
