"""Survey uploads and workbooks under attack (issue 15 §2), against a real ``shangyun serve`` and the
real importer, on SQLite and PostgreSQL.

Attacks reproduced:
- an anonymous 1.5 GB upload got its 401 only after 11 s, with the file already on disk; an operator's
  200 MB upload got its 413 only after the whole body was written;
- a workbook far larger unzipped than zipped, or with thousands of members;
- a workbook declaring ``A1:XFD1048576`` (ran until killed), and one whose dimension understates its
  rows (the extra rows were silently dropped);
- a survey missing a required column (a traceback and HTTP 500).
"""

from __future__ import annotations

import re
import shutil
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collectors.survey.importer import import_survey
from collectors.survey.reader import SurveyFileError
from inventory.audit import Actor
from inventory.models import Server
from inventory.views.export import export_inventory
from tests.api_server import seed, serve
from tests.conftest import run_cli
from tests.survey_files import snapshot

ACTOR = Actor("test:uploads")


def _raw_request(base: str, head: str, body: bytes = b"", wait: float = 10.0) -> tuple[float, str]:
    """Send ``head`` (and ``body``) on a plain socket; (seconds until the answer, its status line)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as connection:
        started = time.monotonic()
        connection.sendall(head.encode() + body)
        answer = connection.recv(4096).decode("latin-1")
        return time.monotonic() - started, answer.split("\r\n", 1)[0]


@pytest.fixture
def served(db_url: str, tiny_estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A served estate whose temporary files go to a folder of their own; (base URL, tokens, that folder)."""
    seeded = seed(db_url, tiny_estate)
    scratch = tmp_path / "server-tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    process, base = serve(db_url, tmp_path / "serve.log")
    try:
        yield base, seeded.tokens, scratch
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_uploads_are_refused_before_their_body_is_read(served: tuple[str, dict[str, str], Path]) -> None:
    base, tokens, scratch = served
    head = ("POST /api/v1/imports HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            "Content-Length: 1610612736\r\n{auth}\r\n")
    # Nothing of the declared 1.5 GB is sent: an answer at all proves the body was not waited for.
    seconds, status = _raw_request(base, head.format(auth=""))
    assert status.endswith("401 Unauthorized") and seconds < 5
    seconds, status = _raw_request(base, head.format(auth=f"Authorization: Bearer {tokens['viewer']}\r\n"))
    assert status.endswith("403 Forbidden") and seconds < 5
    seconds, status = _raw_request(base, head.format(auth=f"Authorization: Bearer {tokens['operator']}\r\n"))
    assert status.endswith("413 Request Entity Too Large") and seconds < 5

    def endless() -> Iterator[bytes]:  # chunked, so no size is declared: cut off at the limit
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n\r\n"
        for _ in range(200):
            yield b"\0" * (1 << 20)

    chunked = httpx.post(base + "/api/v1/imports", timeout=60, content=endless(),
                         headers={"Authorization": f"Bearer {tokens['operator']}",
                                  "Content-Type": "multipart/form-data; boundary=b"})
    assert chunked.status_code == 413 and "50 MB" in chunked.text
    assert list(scratch.iterdir()) == []  # no temporary file is left behind


def _survey_workbook(engine: Engine, tiny_estate: Path, target: Path) -> Path:
    assert import_survey(tiny_estate, engine=engine, actor=ACTOR).written
    with Session(engine) as session:
        export_inventory(session, target)
    return target


def _rewrite(source: Path, target: Path, edit: dict[str, bytes] | None = None,
             extra: dict[str, bytes] | None = None) -> Path:
    """A copy of the workbook ``source`` with members replaced (``edit``) or added (``extra``)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, (edit or {}).get(item.filename, old.read(item.filename)))
        for name, data in (extra or {}).items():
            new.writestr(name, data)
    return target


def _servers_sheet(workbook: Path) -> str:
    with zipfile.ZipFile(workbook) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        return next(n for n in names if b"cpu_cores" in archive.read(n) or b"hostname" in archive.read(n))


def _limit(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    from inventory.settings import get_settings

    monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def test_workbooks_are_read_within_limits_and_whole(engine: Engine, tiny_estate: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from inventory.settings import get_settings

    exported = _survey_workbook(engine, tiny_estate, tmp_path / "estate.xlsx")
    with Session(engine) as session:
        servers = session.execute(sa.select(sa.func.count()).select_from(Server)).scalar_one()
    sheet = _servers_sheet(exported)
    with zipfile.ZipFile(exported) as archive:
        xml = archive.read(sheet)
    before = snapshot(engine)
    try:
        # the declared dimension is ignored: a huge claim costs nothing, a small one drops nothing
        for claim in (b"A1:XFD1048576", b"A1:B2"):
            dimension = b'<dimension ref="' + claim + b'"/>'
            marked = (re.sub(rb'<dimension ref="[^"]*"/>', dimension, xml) if b"<dimension" in xml
                      else xml.replace(b"<sheetData", dimension + b"<sheetData", 1))
            assert dimension in marked
            workbook = _rewrite(exported, tmp_path / f"claim-{claim.decode().replace(':', '-')}.xlsx", {sheet: marked})
            started = time.monotonic()
            outcome = import_survey(workbook, engine=engine, actor=ACTOR, dry_run=True)
            assert time.monotonic() - started < 60
            assert not outcome.report.errors and outcome.report.counts["server"].unchanged == servers, claim

        _limit(monkeypatch, "SHANGYUN_MAX_WORKBOOK_UNPACKED_MB", "1")
        bomb = _rewrite(exported, tmp_path / "bomb.xlsx", extra={"xl/media/pad.bin": b" " * (3 << 20)})
        with pytest.raises(SurveyFileError, match=r"bomb.xlsx: .* MB once unzipped, more than 1 MB"):
            import_survey(bomb, engine=engine, actor=ACTOR)
        _limit(monkeypatch, "SHANGYUN_MAX_WORKBOOK_UNPACKED_MB", "1024")
        _limit(monkeypatch, "SHANGYUN_MAX_WORKBOOK_MEMBERS", "5")
        with pytest.raises(SurveyFileError, match="files inside the workbook, more than 5"):
            import_survey(exported, engine=engine, actor=ACTOR)
        _limit(monkeypatch, "SHANGYUN_MAX_WORKBOOK_MEMBERS", "1000")
        _limit(monkeypatch, "SHANGYUN_MAX_SHEET_ROWS", str(servers // 2))
        with pytest.raises(SurveyFileError, match=f"more than {servers // 2:,} rows"):
            import_survey(exported, engine=engine, actor=ACTOR)
        folder = tmp_path / "csv"
        with Session(engine) as session:
            export_inventory(session, folder)
        with pytest.raises(SurveyFileError, match=rf"\w+\.csv: more than {servers // 2:,} rows"):
            import_survey(folder, engine=engine, actor=ACTOR)
    finally:
        get_settings.cache_clear()
    assert snapshot(engine) == before  # nothing was half-written


def test_a_missing_required_column_is_named(db_url: str, tiny_estate: Path, tmp_path: Path) -> None:
    survey = tmp_path / "survey"
    shutil.copytree(tiny_estate, survey)
    rooms = next(p for p in survey.iterdir() if "room" in p.name.lower() or "机房" in p.name)
    lines = rooms.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    code = next(i for i, h in enumerate(header) if "编码" in h or h.strip().lower() == "code")
    rooms.write_text("\n".join(",".join(c for k, c in enumerate(line.split(",")) if k != code) for line in lines),
                     encoding="utf-8")
    result = run_cli("import", str(survey), db_url=db_url)
    assert result.returncode == 2, result.stderr[-2000:]
    said = result.stdout + result.stderr
    assert "column '机房编码/code': required column missing" in said and "Traceback" not in said


def test_the_streamed_samples_sheet_has_its_own_row_limit(engine: Engine, tiny_estate: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Entity sheets are held whole, so their rows are capped; the samples sheet is streamed in batches, so
    a samples file past ``SHANGYUN_MAX_SHEET_ROWS`` imports whole, and only ``SHANGYUN_MAX_SAMPLE_ROWS``
    refuses it (naming that setting) with nothing written."""
    from inventory.settings import get_settings

    samples = sum(1 for _ in (tiny_estate / "samples.csv").open(encoding="utf-8-sig")) - 1
    servers = sum(1 for _ in (tiny_estate / "servers.csv").open(encoding="utf-8-sig")) - 1
    assert samples > 4 * servers
    before = snapshot(engine)
    try:
        _limit(monkeypatch, "SHANGYUN_MAX_SAMPLE_ROWS", str(samples // 2))
        with pytest.raises(SurveyFileError, match=rf"samples.csv: more than {samples // 2:,} rows "
                                                  r"\(SHANGYUN_MAX_SAMPLE_ROWS\)"):
            import_survey(tiny_estate, engine=engine, actor=ACTOR)
        assert snapshot(engine) == before
        _limit(monkeypatch, "SHANGYUN_MAX_SAMPLE_ROWS", str(samples + 1))  # header row + every sample
        _limit(monkeypatch, "SHANGYUN_MAX_SHEET_ROWS", str(2 * servers))
        outcome = import_survey(tiny_estate, engine=engine, actor=ACTOR)
        assert outcome.written and not outcome.report.errors
        assert outcome.report.samples_inserted + outcome.report.samples_existing == samples
    finally:
        get_settings.cache_clear()
