"""Fixtures for the system tests: real tinykv-server processes on loopback.

The tests need the tinykv-server binary (see tinykv.testing.find_server_binary) and the
phase 5 client (tinykv.Client); without them they are skipped with the reason.
Timing: tick 25 ms, election timeout 250-500 ms, so every bound below is stated relative
to ``cluster.election_timeout`` and padded generously for a loaded 2-core machine.
"""

import os

import pytest

import tinykv
from tinykv import testing


def _missing() -> str | None:
    try:
        testing.find_server_binary()
    except FileNotFoundError as e:
        return str(e)
    if not hasattr(tinykv, "Client"):
        return "tinykv.Client (phase 5) is not built yet"
    return None


@pytest.fixture(scope="session")
def system_ready():
    reason = _missing()
    if reason:
        if os.environ.get("TINYKV_REQUIRE_SYSTEM"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def cluster(system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "cluster") as c:
        yield c


@pytest.fixture
def seed():
    """TINYKV_SEED replays a randomized test; otherwise a fixed default (printed)."""
    s = int(os.environ.get("TINYKV_SEED", "1"))
    print(f"seed={s} (replay with TINYKV_SEED={s})")
    return s
