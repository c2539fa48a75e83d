"""``tinykv.testing.Cluster``: a real TinyKV cluster of ``tinykv-server`` processes.

::

    from tinykv.testing import Cluster

    with Cluster(n=3, data_dir=tmp_path) as c:
        leader = c.leader()              # node id (1..n) of the current leader, waits for one
        cl = c.client()                  # tinykv.Client over every endpoint
        cl.put(b"k", b"v")
        c.kill(leader)                   # SIGKILL
        c.pause(2); c.resume(2)          # SIGSTOP / SIGCONT
        c.restart(leader)                # same ports, same data directory
        c.partition([[1], [2, 3]]); c.heal()
    # every process is gone here

The same verbs drive the in-process clusters, ``tinykv.client.EmbeddedCluster`` (members
serving the client protocol) and ``tinykv.raft.LocalCluster`` (``KvNode`` objects driven
directly): ``leader()``, ``wait_leader()``, ``client()`` (not the raft one: it is its own
client), ``kill(i)``, ``restart(i)``, ``stop_node(i)``/``start_node(i)``, ``partition()``,
``heal()``, ``stop()``. Only real processes can be paused (``pause``/``resume``) or killed
with SIGKILL; in-process, ``kill(i)`` is a clean stop of member i.

Nodes are numbered 1..n, like Raft ids (node i has Raft id i). Each node listens on two free
loopback ports (client and peer) chosen at start and kept across restarts, and keeps its data
in ``<data_dir>/node<i>`` with its log in ``<data_dir>/node<i>.log``. With ``metrics=True``
each node also serves its HTTP monitoring endpoints (``--listen-metrics``) on a third port,
``Node.metrics_address`` (``c.metrics_url(i)`` is ``http://`` + it).

With ``tls=True`` the cluster is a secure one, as etcd's docs set it up: a throwaway CA
(``c.pki``, a ``TestPki`` under ``<data_dir>/tls``, EC P-256 keys made with the ``openssl``
command line) signs one certificate per node and one for clients; every node serves its
client port and its peer port with TLS and requires a client certificate on both
(``--client-cert-auth``, ``--peer-client-cert-auth``). ``c.client()`` and the admin calls
present the client certificate (``c.client_tls`` holds the ``cacert``/``cert``/``key``
arguments of ``tinykv.Client``). Without ``tls`` nothing of this happens.

The server binary is ``$TINYKV_SERVER_BIN`` if set, else ``tinykv/bin/tinykv-server`` inside
the installed package, else the venv's scripts directory, else ``tinykv-server`` on PATH
(``find_server_binary()``); the CLI is found the same way (``find_cli_binary()``,
``$TINYKV_CLI_BIN``).

Partitions use the servers' admin RPC (``--enable-fault-injection``, which Cluster passes):
``partition(groups)`` tells every live node to drop all Raft traffic to and from the nodes
outside its group (both sides drop, so one side that is paused or dead still cannot talk);
a node in no group is alone. The wanted partition is remembered and applied again to a node
when it is restarted or resumed. ``heal()`` clears it. Client traffic is never dropped.

Never leaving a process behind: every server runs in its own process group, is stopped by
``stop()`` / the context manager / a ``weakref.finalize`` / an ``atexit`` hook (SIGTERM, then
SIGKILL after a grace period), and is started with ``PR_SET_PDEATHSIG=SIGKILL`` so that it dies
with the Python process even when that is killed with SIGKILL. Servers are spawned from one
long-lived helper thread, because the kernel sends the death signal when the *thread* that
forked the child exits.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import queue
import random
import shutil
import signal
import socket
import sysconfig
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

if TYPE_CHECKING:
    import tinykv

__all__ = ["Cluster", "TestPki", "find_cli_binary", "find_server_binary", "free_port",
           "rss_mib"]

_PR_SET_PDEATHSIG = 1


def _find_binary(name: str, env_var: str) -> str:
    """``$env_var`` if set, else ``tinykv/bin/<name>`` inside the installed package, else
    the venv's scripts directory, else ``name`` on PATH; ``FileNotFoundError`` if none."""
    env = os.environ.get(env_var)
    if env:
        return env
    for cand in (Path(__file__).resolve().parent / "bin" / name,
                 Path(sysconfig.get_path("scripts")) / name):
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found: build it (scripts/build.sh) or set {env_var}")


def find_server_binary() -> str:
    """The tinykv-server executable to run (see the module docstring)."""
    return _find_binary("tinykv-server", "TINYKV_SERVER_BIN")


def find_cli_binary() -> str:
    """The ``tinykv`` CLI to run, found as the server is (``$TINYKV_CLI_BIN``)."""
    return _find_binary("tinykv", "TINYKV_CLI_BIN")


# Ports handed out by free_port() in this process, never handed out twice.
_given_ports: set[int] = set()
_given_lock = threading.Lock()


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A loopback port that was free a moment ago and stays likely to be free.

    A port the OS picks for ``bind(0)`` comes from the ephemeral range, the
    same range it takes the local ports of outgoing connections from, so by
    the time a server starts (or restarts, on the same port, after a kill) a
    client connection elsewhere on the machine may hold it ("Address already
    in use"). So the port is drawn at random from below the ephemeral range
    (10000 up to it), checked free by binding it, and never handed out twice
    by this process; the OS's pick is the fallback when that range is empty.
    """
    lo, _ = _ephemeral_range()
    rng = random.SystemRandom()
    with _given_lock:
        for _ in range(200 if lo > 11000 else 0):
            port = rng.randrange(10000, lo)
            if port in _given_ports:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _given_ports.add(port)
            return port
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        _given_ports.add(port)
        return port


def wait_until(pred: "Callable[[], Any]", timeout: float = 15.0, what: str = "the condition",
               interval: float = 0.02) -> Any:
    """Polls ``pred()`` every ``interval`` seconds until it returns something truthy and
    returns that; raises AssertionError naming ``what`` once ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def rss_mib(pid: int) -> float:
    """The resident set size (``VmRSS``) of process ``pid``, in MiB (Linux ``/proc``)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError(f"no VmRSS for pid {pid}")


def _set_pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort; atexit/finalize still stop the servers
        pass


class _Spawner:
    """One daemon thread that forks every server (see the module docstring: PDEATHSIG)."""

    def __init__(self) -> None:
        self._q: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="tinykv-spawner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            args, kwargs, box, done = self._q.get()
            try:
                box.append(subprocess.Popen(*args, **kwargs))
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                box.append(e)
            done.set()

    def popen(self, *args, **kwargs) -> subprocess.Popen:
        box: list = []
        done = threading.Event()
        self._q.put((args, kwargs, box, done))
        done.wait()
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]


_spawner_lock = threading.Lock()
_spawner: _Spawner | None = None
_live_procs: "weakref.WeakSet[subprocess.Popen]" = weakref.WeakSet()


def _popen(*args, **kwargs) -> subprocess.Popen:
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
    p = _spawner.popen(*args, **kwargs)
    _live_procs.add(p)
    return p


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_procs(procs: Iterable[subprocess.Popen], grace: float) -> None:
    procs = [p for p in procs if p.poll() is None]
    for p in procs:
        _kill_group(p, signal.SIGCONT)  # a paused server cannot handle SIGTERM
        _kill_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(p, signal.SIGKILL)
            p.wait()


@atexit.register
def _stop_everything() -> None:
    _stop_procs(list(_live_procs), grace=5.0)


def _admin():
    from tinykv import _core
    return _core.prod  # same functions as tinykv.prod


class TestPki:
    """A throwaway certificate authority in ``root`` (made if missing), for TLS tests.

    Made with the ``openssl`` command line; keys are EC P-256 (milliseconds to make).
    ``ca_cert``/``ca_key`` are the CA's PEM files; ``issue(name)`` signs a certificate for
    ``name`` and returns ``(cert_path, key_path)``.
    """

    __test__ = False  # not a pytest class

    def __init__(self, root: str | os.PathLike, name: str = "ca"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.ca_cert = str(self.root / f"{name}.pem")
        self.ca_key = str(self.root / f"{name}.key")
        self._run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                   "-out", self.ca_key])
        self._run(["openssl", "req", "-x509", "-new", "-key", self.ca_key, "-subj",
                   f"/CN={name}", "-days", "2", "-out", self.ca_cert])

    def _run(self, args: list[str]) -> None:
        r = subprocess.run(args, cwd=self.root, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {r.stderr.strip()}")

    def issue(self, name: str, days: int = 2,
              san: str = "IP:127.0.0.1,DNS:localhost") -> tuple[str, str]:
        """A certificate for serverAuth and clientAuth naming ``san``, valid for ``days``
        (negative: already expired). Returns ``(cert_path, key_path)``."""
        cert, key = str(self.root / f"{name}.pem"), str(self.root / f"{name}.key")
        csr, ext = self.root / f"{name}.csr", self.root / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\n")
        self._run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                   "-out", key])
        self._run(["openssl", "req", "-new", "-key", key, "-subj", f"/CN={name}",
                   "-out", str(csr)])
        self._run(["openssl", "x509", "-req", "-in", str(csr), "-CA", self.ca_cert,
                   "-CAkey", self.ca_key, "-CAcreateserial", "-days", str(days),
                   "-extfile", str(ext), "-out", cert])
        return cert, key


class Node:
    """One member: its ports, directory, log and (while running) process."""

    def __init__(self, node_id: int, root: Path, metrics: bool = False, etcd: bool = False):
        self.id = node_id
        self.client_port = free_port()
        self.peer_port = free_port()
        self.metrics_port = free_port() if metrics else None  # --listen-metrics
        self.etcd_port = free_port() if etcd else None  # --listen-etcd
        self.data_dir = root / f"node{node_id}"
        self.log_path = root / f"node{node_id}.log"
        self.proc: subprocess.Popen | None = None
        self.paused = False
        self.initial_cluster_state = "new"  # "existing": joins via `member add` (add_node)

    @property
    def endpoint(self) -> str:
        """The client endpoint "127.0.0.1:port"."""
        return f"127.0.0.1:{self.client_port}"

    @property
    def peer_address(self) -> str:
        """The peer (Raft) address "127.0.0.1:port"."""
        return f"127.0.0.1:{self.peer_port}"

    @property
    def metrics_address(self) -> str | None:
        """The monitoring address "127.0.0.1:port", None without ``metrics=True``."""
        return None if self.metrics_port is None else f"127.0.0.1:{self.metrics_port}"

    @property
    def etcd_address(self) -> str | None:
        """etcd's v3 API "127.0.0.1:port" (``--listen-etcd``), None without ``etcd=True``."""
        return None if self.etcd_port is None else f"127.0.0.1:{self.etcd_port}"

    @property
    def alive(self) -> bool:
        """Whether its process runs (a paused one does)."""
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of its log file ("" when there is none)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Cluster:
    """n real tinykv-server processes on loopback. See the module docstring.

    ``tick_ms``/``election_ticks``/``heartbeat_ticks`` are passed to every server; the
    defaults (25 ms x 10 ticks: elections after 250-500 ms) keep tests quick while leaving
    room on a loaded 2-core machine. ``extra_args`` go to every server. ``metrics=True`` gives
    every node a ``--listen-metrics`` port, ``etcd=True`` a ``--listen-etcd`` one (etcd's v3
    gRPC API, ``c.etcd_endpoints``). ``tls=True`` makes a TLS cluster (module
    docstring). ``start=False`` leaves the servers stopped until ``start()``.
    """

    def __init__(self, n: int = 3, data_dir: str | os.PathLike | None = None, *,
                 tick_ms: int = 25, election_ticks: int = 10, heartbeat_ticks: int = 2,
                 server_bin: str | None = None, extra_args: Sequence[str] = (),
                 log_level: str = "info", start: bool = True, start_timeout: float = 30.0,
                 metrics: bool = False, tls: bool = False, etcd: bool = False):
        if n < 1:
            raise ValueError("n must be >= 1")
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tinykv-cluster-")
            data_dir = self._tmp.name
        self.root = Path(data_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.n = n
        self.tick_ms = tick_ms
        self.election_ticks = election_ticks
        self.heartbeat_ticks = heartbeat_ticks
        self.server_bin = server_bin or find_server_binary()
        self.extra_args = list(extra_args)
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.metrics = metrics
        self.etcd = etcd
        self.nodes = {i: Node(i, self.root, metrics, etcd) for i in range(1, n + 1)}
        self.tls = tls
        self.pki: TestPki | None = None
        # tinykv.Client's (and the admin calls') TLS arguments; empty without tls.
        self.client_tls: dict[str, str] = {}
        if tls:
            self.pki = TestPki(self.root / "tls")
            cert, key = self.pki.issue("client")
            self.client_tls = {"cacert": self.pki.ca_cert, "cert": cert, "key": key}
        self._dropped: dict[int, list[int]] = {i: [] for i in self.nodes}
        self._clients: list = []
        self._lock = threading.RLock()
        # Stops the servers even if the Cluster is garbage-collected without stop().
        procs = self._procs_ref = []
        self._finalizer = weakref.finalize(self, _stop_procs, procs, 5.0)
        if start:
            self.start()

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def election_timeout(self) -> float:
        """The longest randomized election timeout, in seconds."""
        return 2 * self.election_ticks * self.tick_ms / 1000.0

    @property
    def endpoints(self) -> list[str]:
        """Every node's client endpoint, node 1 first."""
        return [self.nodes[i].endpoint for i in sorted(self.nodes)]

    def endpoint(self, i: int) -> str:
        """Node i's client endpoint "127.0.0.1:port"."""
        return self.nodes[i].endpoint

    @property
    def etcd_endpoints(self) -> list[str]:
        """Every node's etcd v3 API endpoint, node 1 first (needs ``etcd=True``)."""
        if not self.etcd:
            raise ValueError("the cluster was made without etcd=True")
        return [self.nodes[i].etcd_address for i in sorted(self.nodes)]

    def metrics_url(self, i: int) -> str:
        """Node i's monitoring base URL "http://127.0.0.1:port" (needs ``metrics=True``)."""
        address = self.nodes[i].metrics_address
        if address is None:
            raise ValueError("the cluster was made without metrics=True")
        return f"http://{address}"

    def initial_cluster(self) -> str:
        """The ``--initial-cluster`` value: ``1=host:peer_port,2=...``."""
        return ",".join(f"{i}={self.nodes[i].peer_address}" for i in sorted(self.nodes))

    def command(self, i: int) -> list[str]:
        """The command line that starts node i."""
        node = self.nodes[i]
        return [self.server_bin, "--id", str(i), "--data-dir", str(node.data_dir),
                "--listen-client", node.endpoint, "--listen-peer", node.peer_address,
                "--initial-cluster", self.initial_cluster(),
                "--initial-cluster-state", node.initial_cluster_state,
                "--initial-cluster-client",
                ",".join(f"{j}={self.nodes[j].endpoint}" for j in sorted(self.nodes)),
                "--tick-ms", str(self.tick_ms),
                "--election-ticks", str(self.election_ticks),
                "--heartbeat-ticks", str(self.heartbeat_ticks), "--log-level", self.log_level,
                "--enable-fault-injection",
                *(["--listen-metrics", node.metrics_address] if node.metrics_address else []),
                *(["--listen-etcd", node.etcd_address] if node.etcd_address else []),
                *self._tls_args(i),
                *self.extra_args]

    def _tls_args(self, i: int) -> list[str]:
        """Node i's TLS flags (its certificate, made on first use); [] without tls."""
        if self.pki is None:
            return []
        cert, key = self.root / "tls" / f"node{i}.pem", self.root / "tls" / f"node{i}.key"
        if not cert.exists():
            self.pki.issue(f"node{i}")
        return ["--cert-file", str(cert), "--key-file", str(key),
                "--trusted-ca-file", self.pki.ca_cert, "--client-cert-auth",
                "--peer-cert-file", str(cert), "--peer-key-file", str(key),
                "--peer-trusted-ca-file", self.pki.ca_cert, "--peer-client-cert-auth"]

    def start(self) -> None:
        """Starts every node that is not running and waits until each answers."""
        for i in sorted(self.nodes):
            if not self.nodes[i].alive:
                self._spawn(i)
        for i in sorted(self.nodes):
            self._wait_ready(i)

    def _spawn(self, i: int) -> None:
        node = self.nodes[i]
        log = open(node.log_path, "ab")
        try:
            node.proc = _popen(self.command(i), stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=_set_pdeathsig)
        finally:
            log.close()
        node.paused = False
        self._procs_ref.append(node.proc)

    def _wait_ready(self, i: int) -> None:
        node = self.nodes[i]
        deadline = time.monotonic() + self.start_timeout
        while True:
            if node.proc is None or node.proc.poll() is not None:
                code = None if node.proc is None else node.proc.returncode
                raise RuntimeError(f"node {i} exited with {code} while starting:\n"
                                   f"{node.log_tail()}")
            try:
                _admin().admin_status(node.endpoint, timeout=1.0, **self.client_tls)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise TimeoutError(f"node {i} did not answer within {self.start_timeout}s:\n"
                                       f"{node.log_tail()}") from None
                time.sleep(0.05)
        if self._dropped[i]:
            self._apply_faults(i)

    def stop(self, grace: float = 10.0) -> None:
        """Stops every node (SIGTERM, then SIGKILL after ``grace`` seconds) and closes the
        clients handed out by ``client()``. Idempotent."""
        for cl in self._clients:
            close = getattr(cl, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
        self._clients.clear()
        _stop_procs([n.proc for n in self.nodes.values() if n.proc is not None], grace)
        for node in self.nodes.values():
            node.paused = False

    def close(self) -> None:
        """``stop()``, then removes the temporary data directory if this Cluster made one."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------------------- faults

    def kill(self, i: int) -> None:
        """SIGKILL node i and wait for it to die."""
        node = self.nodes[i]
        if node.proc is not None and node.proc.poll() is None:
            _kill_group(node.proc, signal.SIGKILL)
            node.proc.wait()
        node.paused = False

    def terminate(self, i: int, timeout: float = 30.0) -> int:
        """SIGTERM node i (graceful shutdown) and wait; returns its exit code."""
        node = self.nodes[i]
        if node.proc is None or node.proc.poll() is not None:
            return node.proc.returncode if node.proc else 0
        if node.paused:
            self.resume(i)
        node.proc.send_signal(signal.SIGTERM)
        try:
            return node.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(i)
            raise TimeoutError(f"node {i} did not exit within {timeout}s of SIGTERM:\n"
                               f"{node.log_tail()}") from None

    def pause(self, i: int) -> None:
        """SIGSTOP node i: it keeps its sockets but does nothing (a GC pause, a VM stall)."""
        node = self.nodes[i]
        if node.alive and not node.paused:
            _kill_group(node.proc, signal.SIGSTOP)
            node.paused = True

    def resume(self, i: int) -> None:
        """SIGCONT node i."""
        node = self.nodes[i]
        if node.alive and node.paused:
            _kill_group(node.proc, signal.SIGCONT)
            node.paused = False
            if self._dropped[i]:
                try:
                    self._apply_faults(i)
                except Exception:  # noqa: BLE001 - the other side drops too
                    pass

    def restart(self, i: int) -> None:
        """Stops node i if it runs (SIGKILL: a crash), then starts it on the same ports and
        data directory and waits until it answers."""
        self.kill(i)
        self._spawn(i)
        self._wait_ready(i)

    def stop_node(self, i: int, timeout: float = 30.0) -> int:
        """Same as ``terminate(i)`` (the name the in-process clusters use)."""
        return self.terminate(i, timeout)

    def start_node(self, i: int) -> None:
        """Starts node i if it is not running."""
        if not self.nodes[i].alive:
            self._spawn(i)
            self._wait_ready(i)

    def add_node(self, i: int, start: bool = True) -> Node:
        """Creates node i (new ports and directory) that joins the running cluster: it starts
        with ``--initial-cluster-state existing``, so it has no configuration and waits until
        a ``member add`` of it reaches it. Membership itself is the caller's to change."""
        if i in self.nodes:
            raise ValueError(f"node {i} exists")
        node = self.nodes[i] = Node(i, self.root, self.metrics, self.etcd)
        node.initial_cluster_state = "existing"
        self._dropped[i] = []
        if start:
            self.start_node(i)
        return node

    def partition(self, groups: Sequence[Sequence[int]]) -> None:
        """Replaces any earlier partition: nodes talk only within their group."""
        group_of: dict[int, int] = {}
        for g, members in enumerate(groups):
            for i in members:
                if i not in self.nodes:
                    raise ValueError(f"no node {i}")
                if i in group_of:
                    raise ValueError(f"node {i} is in two groups")
                group_of[i] = g
        for i in self.nodes:
            self._dropped[i] = [j for j in self.nodes
                                if j != i and (i not in group_of or group_of.get(j) != group_of[i])]
        self._apply_all()

    def heal(self) -> None:
        """Removes the partition."""
        for i in self.nodes:
            self._dropped[i] = []
        self._apply_all()

    def _apply_all(self) -> None:
        for i, node in self.nodes.items():
            if node.alive and not node.paused:
                self._apply_faults(i)

    def _apply_faults(self, i: int) -> None:
        _admin().admin_set_faults(self.nodes[i].endpoint, self._dropped[i], 0.0, timeout=2.0,
                                  **self.client_tls)

    # ----------------------------------------------------------------------------- observing

    def status(self, i: int, timeout: float = 1.0) -> dict:
        """Node i's Raft status (id, leader, term, role, commit_index, applied_index, ...)."""
        return _admin().admin_status(self.nodes[i].endpoint, timeout=timeout, **self.client_tls)

    def statuses(self) -> dict[int, dict]:
        """The status of every node that answers (paused or dead nodes are left out)."""
        out = {}
        for i, node in self.nodes.items():
            if node.alive and not node.paused:
                try:
                    out[i] = self.status(i, timeout=0.5)
                except Exception:  # noqa: BLE001 - not answering
                    pass
        return out

    def leader(self, timeout: float = 20.0, exclude: Iterable[int] = ()) -> int:
        """The id of the leader of the highest term among the nodes that answer, waiting up to
        ``timeout`` seconds for one to exist. Nodes in ``exclude`` are not considered."""
        exclude = set(exclude)
        deadline = time.monotonic() + timeout
        while True:
            sts = {i: s for i, s in self.statuses().items() if i not in exclude}
            leaders = [(s["term"], i) for i, s in sts.items() if s["role"] == "leader"]
            if leaders:
                term, lead = max(leaders)
                # Only trust it when no answering node has seen a higher term.
                if all(s["term"] <= term for s in sts.values()):
                    return lead
            if time.monotonic() > deadline:
                raise TimeoutError(f"no leader within {timeout}s; statuses: {sts}")
            time.sleep(0.02)

    def wait_leader(self, timeout: float = 20.0) -> int:
        """Same as ``leader(timeout)`` (the name the in-process clusters use)."""
        return self.leader(timeout)

    def client(self, timeout: float = 5.0,
               endpoints: Sequence[str] | None = None) -> "tinykv.Client":
        """A ``tinykv.Client`` over the endpoints (all nodes by default); closed by stop()."""
        from tinykv import Client  # phase 5
        cl = Client(list(endpoints or self.endpoints), timeout=timeout, **self.client_tls)
        self._clients.append(cl)
        return cl

    def wait_applied(self, index: int, nodes: Iterable[int] | None = None,
                     timeout: float = 20.0) -> None:
        """Waits until the given nodes (default: every answering one) applied ``index``."""
        deadline = time.monotonic() + timeout
        while True:
            sts = self.statuses()
            want = list(nodes) if nodes is not None else list(sts)
            if all(i in sts and sts[i]["applied_index"] >= index for i in want):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"applied_index {index} not reached in {timeout}s: {sts}")
            time.sleep(0.02)
