"""Fixtures of the client tests: one real 3-node cluster of tinykv-server processes per
test module (tinykv.testing.Cluster: loopback, free ports, stopped at the end) and a
client over every endpoint. Tests that share a module's cluster keep to their own key
prefix (tests/conftest.py's `ns`) or clear what they use."""

import pytest

from tinykv import testing


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with testing.Cluster(n=3, data_dir=tmp_path_factory.mktemp("cluster")) as c:
        c.wait_leader()
        yield c


@pytest.fixture
def cl(cluster):
    """A client of the module's cluster (10 s deadline per call: a loaded 2-core machine)."""
    return cluster.client(timeout=10.0)
