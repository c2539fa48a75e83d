"""TLS and mutual TLS on a real 3-node cluster (``tinykv.testing.Cluster(tls=True)``: every
node serves its client and peer ports with TLS and requires client certificates on both).

What a user relies on: a good certificate gets put/get through (Python client and the
``tinykv`` CLI with ``--cacert/--cert/--key``); a plaintext client, a client certificate from
another CA, a CA that does not sign the servers, an expired certificate and a peer without a
client certificate are each refused quickly (well before the call's deadline: no retrying
until it passes) with an error naming TLS or the certificate; the refusing node logs one
line and the cluster keeps serving; bad TLS flags stop ``tinykv-server`` with one line naming
the flag. The refusals are what client-cert-auth and the CA check exist for: with the
client certificate requirement off (``--client-cert-auth`` not passed) the certificate-less
client of ``test_client_without_certificate_needs_client_cert_auth_off`` is served (the
negative control).

The throwaway CAs are made in the test (``tinykv.testing.TestPki``, ``openssl`` CLI, EC
P-256). Only 127.0.0.1 and OS-chosen ports; the fixtures stop every process.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time

import pytest

import tinykv
from tinykv import testing

from test_cli import cli_binary  # same folder (the rootdir conftest puts it on the path)

pytestmark = pytest.mark.system

CALL_TIMEOUT = 20.0  # the deadline of a refused call
FAST = 8.0           # a refusal comes well before it (generous for a loaded machine)


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    try:
        testing.find_server_binary()
    except FileNotFoundError as e:
        if os.environ.get("TINYKV_REQUIRE_SYSTEM"):
            pytest.fail(str(e))
        pytest.skip(str(e))
    with testing.Cluster(n=3, data_dir=tmp_path_factory.mktemp("tls"), tls=True) as c:
        c.leader()
        yield c


@pytest.fixture(scope="module")
def stranger(tmp_path_factory):
    """Another CA, unknown to the cluster, and a certificate it signed."""
    pki = testing.TestPki(tmp_path_factory.mktemp("stranger"), name="stranger-ca")
    cert, key = pki.issue("stranger")
    return pki, cert, key


def assert_serving(c: testing.Cluster, key: bytes) -> None:
    cl = c.client(timeout=CALL_TIMEOUT)
    cl.put(key, b"ok")
    assert cl.get(key) == b"ok"
    assert all(node.alive for node in c.nodes.values())


def refused(make_client, what: str) -> str:
    """Runs one put on the client; it must fail with tinykv.IOError within FAST seconds
    and mention `what`. Returns the message."""
    start = time.monotonic()
    with pytest.raises(tinykv.IOError) as e:
        with make_client() as cl:
            cl.put(b"refused", b"x")
    took = time.monotonic() - start
    msg = str(e.value)
    assert what in msg, msg
    assert took < FAST, f"refusal took {took:.1f}s: {msg}"
    return msg


def log_lines(c: testing.Cluster, needle: str) -> list[str]:
    return [ln for node in c.nodes.values()
            for ln in node.log_path.read_text(errors="replace").splitlines() if needle in ln]


def test_good_certificate_is_served(tls_cluster):
    c = tls_cluster
    cl = c.client()
    cl.put(b"k", b"v")
    assert cl.get(b"k") == b"v"
    # https:// endpoints mean the same; the status says the cluster is whole.
    with tinykv.Client([f"https://{e}" for e in c.endpoints], timeout=CALL_TIMEOUT,
                       **c.client_tls) as https_client:
        assert https_client.get(b"k") == b"v"
    assert len(c.statuses()) == 3


def test_plaintext_client_is_refused_naming_tls(tls_cluster):
    c = tls_cluster
    refused(lambda: tinykv.Client(c.endpoints, timeout=CALL_TIMEOUT), "TLS required")
    assert_serving(c, b"after-plaintext")


def test_unknown_client_certificate_is_refused(tls_cluster, stranger):
    c = tls_cluster
    _, cert, key = stranger
    msg = refused(lambda: tinykv.Client(c.endpoints, timeout=CALL_TIMEOUT,
                                        cacert=c.pki.ca_cert, cert=cert, key=key), "TLS")
    assert "alert" in msg or "certificate" in msg, msg
    assert_serving(c, b"after-stranger")


def test_servers_signed_by_another_ca_are_refused(tls_cluster, stranger):
    c = tls_cluster
    pki, _, _ = stranger
    refused(lambda: tinykv.Client(c.endpoints, timeout=CALL_TIMEOUT, cacert=pki.ca_cert,
                                  cert=c.client_tls["cert"], key=c.client_tls["key"]),
            "certificate verify failed")


def test_expired_client_certificate_is_refused(tls_cluster):
    c = tls_cluster
    cert, key = c.pki.issue("expired-client", days=-1)
    refused(lambda: tinykv.Client(c.endpoints, timeout=CALL_TIMEOUT, cacert=c.pki.ca_cert,
                                  cert=cert, key=key), "TLS")
    lines = log_lines(c, "expired")
    assert lines, "the refusing node logs why"
    assert_serving(c, b"after-expired")


def test_client_without_certificate_needs_client_cert_auth_off(tls_cluster, tmp_path):
    c = tls_cluster
    no_cert = lambda: tinykv.Client(c.endpoints, timeout=CALL_TIMEOUT,  # noqa: E731
                                    cacert=c.pki.ca_cert)
    refused(no_cert, "certificate")
    # Negative control: a one-node TLS server without --client-cert-auth serves it.
    cert, key = c.pki.issue("lax")
    with testing.Cluster(n=1, data_dir=tmp_path / "lax",
                         extra_args=["--cert-file", cert, "--key-file", key],
                         start=False) as lax:
        lax.client_tls = {"cacert": c.pki.ca_cert}
        lax.start()
        with tinykv.Client(lax.endpoints, timeout=CALL_TIMEOUT, cacert=c.pki.ca_cert) as cl:
            cl.put(b"k", b"lax")
            assert cl.get(b"k") == b"lax"


def test_peer_without_client_certificate_is_refused(tls_cluster):
    c = tls_cluster
    before = len(log_lines(c, "TLS handshake with"))
    leader = c.leader()
    target = next(i for i in c.nodes if i != leader)
    ctx = ssl.create_default_context(cafile=c.pki.ca_cert)  # verifies the node; no cert of ours
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", c.nodes[target].peer_port), timeout=FAST) as raw:
        # The node's alert arrives (it half-closes and drains before closing, so no reset
        # overtakes it): TLS 1.3 reports it at the first read.
        with pytest.raises(ssl.SSLError, match="(?i)certificate") as e:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"\x00" * 64)  # a hello would follow; the peer port wants a cert
                while tls.recv(4096):
                    pass
    assert time.monotonic() - start < FAST, e.value
    # One line in the refusing node's log; the cluster is unaffected.
    testing.wait_until(lambda: len(log_lines(c, "TLS handshake with")) > before,
                       what="the refusal's log line")
    assert_serving(c, b"after-peer")
    assert c.status(target)["peer_messages_refused"] == 0


def test_plaintext_peer_is_refused(tls_cluster):
    c = tls_cluster
    with socket.create_connection(("127.0.0.1", c.nodes[1].peer_port), timeout=FAST) as raw:
        raw.sendall(b"not tls at all")
        data = b""
        while chunk := raw.recv(4096):
            data += chunk
    assert b"TLS required" in data  # the error frame, readable in plaintext
    assert_serving(c, b"after-plaintext-peer")


def test_cli_with_cacert_cert_key(tls_cluster):
    c = tls_cluster
    t = c.client_tls
    base = [cli_binary(), "--endpoints", ",".join(f"https://{e}" for e in c.endpoints),
            "--command-timeout", "20s"]
    tlsargs = ["--cacert", t["cacert"], "--cert", t["cert"], "--key", t["key"]]

    def run(*args):
        return subprocess.run(list(args), capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    p = run(*base, *tlsargs, "put", "cli-key", "cli-value")
    assert p.returncode == 0, p.stderr
    p = run(*base, *tlsargs, "get", "cli-key")
    assert p.returncode == 0 and p.stdout.split() == ["cli-key", "cli-value"], p.stdout + p.stderr
    # Without a client certificate: refused (exit 4, an error that is not a timeout).
    start = time.monotonic()
    p = run(*base, "--cacert", t["cacert"], "get", "cli-key")
    assert p.returncode == 4, p.stdout + p.stderr
    assert "certificate" in p.stderr, p.stderr
    assert time.monotonic() - start < FAST + 5
    # An http:// endpoint with TLS flags is a contradiction: bad usage.
    p = run(cli_binary(), "--endpoints", f"http://{c.endpoints[0]}", *tlsargs, "get", "k")
    assert p.returncode == 2 and "asks for plaintext" in p.stderr, p.stderr


@pytest.mark.parametrize("case", ["missing", "mismatched", "https-peer-without-tls",
                                  "auth-without-ca"])
def test_bad_tls_flags_stop_the_server_naming_the_flag(tls_cluster, tmp_path, case):
    c = tls_cluster
    node_cert, node_key = str(c.root / "tls" / "node1.pem"), str(c.root / "tls" / "node1.key")
    other_cert, other_key = c.pki.issue("other-node")
    args, needle = {
        "missing": (["--cert-file", str(tmp_path / "nope.pem"), "--key-file", node_key],
                    f"--cert-file {tmp_path / 'nope.pem'}: cannot be read"),
        "mismatched": (["--peer-cert-file", node_cert, "--peer-key-file", other_key,
                        "--peer-trusted-ca-file", c.pki.ca_cert], "--peer-key-file"),
        "https-peer-without-tls": (["--listen-peer", "https://127.0.0.1:0"],
                                   "--listen-peer: 'https://127.0.0.1:0' asks for TLS"),
        "auth-without-ca": (["--cert-file", other_cert, "--key-file", other_key,
                             "--client-cert-auth"], "--trusted-ca-file"),
    }[case]
    p = subprocess.run([testing.find_server_binary(), "--id", "1", "--data-dir",
                        str(tmp_path / "d"), "--listen-client", "127.0.0.1:0", *args],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == 2, p.stderr
    assert len(lines) == 1 and lines[0].startswith("tinykv-server: error: "), p.stderr
    assert needle in lines[0], lines[0]
