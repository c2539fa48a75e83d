"""Fixtures of the transaction tests: one real 3-node cluster of tinykv-server processes
per test module (tinykv.testing.Cluster: loopback, free ports, killed at the end), a
client over every endpoint; each test's own key prefix, so that the tests of a module
share the cluster without seeing each other's keys, is tests/conftest.py's `ns`.

The shared client workloads (the bank) live with the system tests' in
tests/system/workload.py; that folder is put on the import path here.
"""

import sys
from pathlib import Path

import pytest

from tinykv import testing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "system"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with testing.Cluster(n=3, data_dir=tmp_path_factory.mktemp("cluster")) as c:
        c.leader()
        yield c


@pytest.fixture
def cl(cluster):
    """A client of the module's cluster (10 s deadline per call: a loaded 2-core machine)."""
    return cluster.client(timeout=10.0)
