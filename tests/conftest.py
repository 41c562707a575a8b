"""Shared fixtures: a migrated database on SQLite and on PostgreSQL for every test that takes ``engine``.

PostgreSQL is the server at ``SHANGYUN_TEST_PG_URL`` (default: the local ``test`` database). Each
test worker gets its own schema, migrated once and emptied before each test. Without a reachable
server the PostgreSQL variants skip with the reason, unless ``SHANGYUN_REQUIRE_PG=1`` (set by CI),
which turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from collectors.sample.estate import SCALES, generate, write_estate
from inventory.db import create_db_engine, normalize_url, upgrade

# Nothing may depend on the day the tests run: the business day is pinned for this process and every
# command it starts (inventory.clock). The sample estate's samples end the day before 1 November 2026.
PINNED_TODAY = "2026-11-30"
os.environ["SHANGYUN_TODAY"] = PINNED_TODAY
# rich sizes its consoles when they are made; commands run in this process (run_cli_here) print as wide as
# those run in a subprocess (run_cli).
os.environ["COLUMNS"] = "200"
PG_URL = os.environ.get("SHANGYUN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("SHANGYUN_REQUIRE_PG") == "1"
ROOT = Path(__file__).resolve().parent.parent
SHANGYUN = str(Path(sys.executable).with_name("shangyun"))


def _pg_unavailable_reason() -> str | None:
    try:
        engine = sa.create_engine(normalize_url(PG_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} unreachable ({type(exc).__name__}); set SHANGYUN_TEST_PG_URL to run these"
    return None


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    """A URL whose search_path is this worker's own, freshly migrated schema."""
    reason = _pg_unavailable_reason()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"SHANGYUN_REQUIRE_PG=1 but {reason}")
        pytest.skip(reason)
    schema = f"shangyun_test_{worker_id}_{os.getpid()}"
    admin = sa.create_engine(normalize_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _empty_pg(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of an empty, migrated database: SQLite file or this worker's PostgreSQL schema."""
    if request.param == "sqlite":
        target = tmp_path / "shangyun.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    engine = create_db_engine(url)
    _empty_pg(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated database (both backends)."""
    eng = create_db_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def tiny_estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny sample estate's survey folder (seed 7), written once per session."""
    out = tmp_path_factory.mktemp("tiny") / "estate"
    write_estate(generate(SCALES["tiny"], seed=7), out)
    return out


def run_cli(*args: str, db_url: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed ``shangyun`` command for real, against ``db_url``."""
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run([SHANGYUN, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout,
                          check=False)


def run_cli_here(*args: str, db_url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``shangyun`` in this process: the same entry point (``api.cli.main``, with its error mapping to
    exit status 2) and settings read afresh from the environment, as a new process would, without the two
    seconds an interpreter start costs. For tests that issue many commands in a row; ``run_cli`` remains
    the proof that the installed command works."""
    import contextlib
    import io

    from api.cli import main
    from inventory.db import get_engine
    from inventory.settings import get_scheduler_settings, get_settings

    def fresh(url: str | None) -> None:
        if get_engine.cache_info().currsize:  # the CLI only ever asks for the configured engine
            get_engine().dispose()
        get_engine.cache_clear()
        if url is None:
            os.environ.pop("SHANGYUN_DATABASE_URL", None)
        else:
            os.environ["SHANGYUN_DATABASE_URL"] = url
        get_settings.cache_clear()
        get_scheduler_settings.cache_clear()

    previous_url, previous_argv, previous_stdin = os.environ.get("SHANGYUN_DATABASE_URL"), sys.argv, sys.stdin
    out, err = io.StringIO(), io.StringIO()
    fresh(db_url)
    sys.argv, sys.stdin = ["shangyun", *args], io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                status = 0
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv, sys.stdin = previous_argv, previous_stdin
        fresh(previous_url)
    return subprocess.CompletedProcess(["shangyun", *args], status, out.getvalue(), err.getvalue())


TESTCLOUD_STATE = Path(os.environ.get("SHANGYUN_TESTCLOUD_STATE", "/var/tmp/shangyun-testcloud"))
REQUIRE_TESTCLOUD = os.environ.get("SHANGYUN_REQUIRE_TESTCLOUD") == "1"


def _testcloud_unavailable_reason(config: Path) -> str | None:
    import urllib.request

    if not config.exists():
        return f"no {config}"
    try:
        with urllib.request.urlopen("http://127.0.0.1:5000/v3", timeout=3) as response:
            response.read()
    except OSError as exc:
        return f"Keystone at 127.0.0.1:5000 does not answer ({exc})"
    return None


@pytest.fixture(autouse=True)
def _one_test_cloud_user_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked ``testcloud`` count and compare the cloud's servers, so they must not overlap across
    xdist workers. A file lock serialises them (pytest-xdist's ``loadgroup`` no longer groups on
    pytest 9.2: pytest-dev/pytest-xdist#1386)."""
    if request.node.get_closest_marker("testcloud") is None:
        yield
        return
    import fcntl

    with open(Path(tempfile.gettempdir()) / "shangyun-testcloud.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def testcloud() -> Iterator[object]:
    """An openstacksdk connection to the project's real OpenStack test cloud (``make testcloud``).

    Skipped with the reason and how to start it when the cloud is not running, unless
    ``SHANGYUN_REQUIRE_TESTCLOUD=1`` (set by ``.ci/run``), which turns the skip into a failure.
    """
    import openstack

    config = TESTCLOUD_STATE / "clouds.yaml"
    reason = _testcloud_unavailable_reason(config)
    if reason:
        message = (f"OpenStack test cloud not running ({reason}); start it with `make testcloud` "
                   "(real OpenStack with a fake hypervisor, ~2.5 GB, 1–2 min; the first start installs ~2 min)")
        if REQUIRE_TESTCLOUD:
            pytest.fail(f"SHANGYUN_REQUIRE_TESTCLOUD=1 but {message}")
        pytest.skip(message)
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(config)
    conn = openstack.connect(cloud="testcloud")
    yield conn
    conn.close()


SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
REQUIRE_SSHD = os.environ.get("SHANGYUN_REQUIRE_SSHD") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An sshd of our own on 127.0.0.1:<free port>, key-only, with a generated user key."""
    if not Path(SSHD).exists():
        reason = f"no OpenSSH server at {SSHD} (Debian: apt-get install openssh-server)"
        if REQUIRE_SSHD:
            pytest.fail(reason + "; SHANGYUN_REQUIRE_SSHD=1 forbids skipping")
        pytest.skip(reason)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir, as its init script makes
    home = tmp_path / "ssh"
    home.mkdir(mode=0o700)
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / name)], check=True)
    (home / "authorized_keys").write_text((home / "user_key.pub").read_text())
    port = free_port()
    host_public = (home / "host_key.pub").read_text().split()
    (home / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public[0]} {host_public[1]}\n")
    (home / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {home / 'host_key'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\nPidFile {home / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "PermitRootLogin prohibit-password\n")
    log = (home / "sshd.log").open("wb")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(home / "sshd_config")], stdout=log, stderr=log)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"sshd did not start: {(home / 'sshd.log').read_text()}")
            time.sleep(0.1)
    try:
        yield {"port": str(port), "key": str(home / "user_key"), "known_hosts": str(home / "known_hosts")}
    finally:
        process.terminate()
        process.wait(timeout=10)




@pytest.fixture
def planned(db_url: str, tiny_estate: Path) -> str:
    """The tiny estate imported, zombies marked and planned with small first waves (plan ``t``)."""
    for args in (("import", str(tiny_estate)), ("zombies",),
                 ("plan", "create", "--name", "t", "--start", "2026-12-07", "--first-waves-small")):
        result = run_cli_here(*args, db_url=db_url)
        assert result.returncode == 0, result.stderr
    return db_url
