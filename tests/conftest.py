"""Set for every test: nbgrader shells out to `alembic`, so the venv's bin/ must lead PATH.

Also the real servers (tests/servers.py) as fixtures. A test that needs one is
skipped, with the reason, where the server cannot start; in CI (`CI` or
`COURSE_REQUIRE_SERVERS` set) such a skip fails the run instead.
"""
import itertools
import os
import re
import sys
from pathlib import Path

import pytest

from tests import servers

os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

SERVER_MARKERS = ("postgres", "slurm", "hub")
ROOT = Path(__file__).resolve().parent.parent
GRADING = ROOT / "tests" / "grading"


# The session's graded class (tests/grading/conftest.py) and the real servers: built once, on one worker.
SHARED = {"one_class", "local_demo_class", "graded_class", "report_course", "slurm_cluster", "postgres_server",
          "postgres_url"}


def xdist_group(path: Path, shared: bool = False) -> str:
    """The group a test file runs in under `make test`'s two pytest-xdist workers (`--dist loadgroup`).

    The grader's tests that share the graded class or the real servers stay together on one worker; every
    other file stays whole (a notebook's cells share one kernel, a module its fixtures) and runs on
    whichever worker is free, so the grader's own unit and catalogue tests run beside the graded class.
    """
    path = Path(path).resolve()
    return "grading" if shared and GRADING in path.parents else re.sub(r"\W", "_", str(path.relative_to(ROOT)))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the marks into groups
def pytest_collection_modifyitems(config, items):
    sharing = {item.path for item in items if SHARED & set(getattr(item, "fixturenames", ()))}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item.path, item.path in sharing)))


_skipped_servers: list = []


def _started(context):
    try:
        return context.__enter__()
    except servers.Unavailable as why:
        pytest.skip(str(why))


@pytest.fixture(scope="session")
def postgres_server():
    context = servers.postgres()
    yield _started(context)
    context.__exit__(None, None, None)


@pytest.fixture(scope="session")
def slurm_cluster():
    context = servers.slurm()
    yield _started(context)
    context.__exit__(None, None, None)


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the test server."""
    return postgres_server.create_database(f"course_test_{next(_database_numbers)}")


def servers_required() -> bool:
    return any(os.environ.get(name, "").strip() not in {"", "0", "false", "no"}
               for name in ("CI", "COURSE_REQUIRE_SERVERS"))


def pytest_runtest_logreport(report):
    if report.skipped and any(marker in report.keywords for marker in SERVER_MARKERS):
        _skipped_servers.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _skipped_servers and servers_required():
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (f"{len(_skipped_servers)} test(s) needing the real PostgreSQL or Slurm were skipped, "
                   "and CI must run them: " + ", ".join(_skipped_servers[:5]))
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
