"""pytest configuration shared by every milestone.

Each folder under tests/ is one milestone; its tests get the marker of the
same name, so `pytest tests/phase1` and `pytest -m phase1` select the same set.
"""

import re
from pathlib import Path

import pytest

_FOLDER_MARKERS = {"common", "phase1", "phase2", "phase3", "phase4", "phase5", "phase6", "system",
                   "notebooks", "docs"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        for folder in _FOLDER_MARKERS:
            if folder in parts:
                item.add_marker("notebook" if folder == "notebooks" else folder)


@pytest.fixture
def ns(request) -> bytes:
    """This test's key prefix, e.g. b"test_p4_lost_update/": tests that share one cluster
    (a module's) do not see each other's keys."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name).encode() + b"/"
