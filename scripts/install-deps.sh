#!/usr/bin/env bash
# Installs, from Debian 12's packages, exactly what TinyKV's build, tests,
# notebooks and benchmarks need. Idempotent: when every
# package is present it changes nothing and touches no network.
#
#   bash scripts/install-deps.sh        # as root, or with sudo available
set -euo pipefail

# package                 why
PACKAGES=(
  g++                     # C++20 compiler (GCC 12)
  cmake                   # build system (3.25)
  ninja-build             # fast parallel builds; the CMake presets use it
  binutils                # strip: the Python package ships stripped binaries (g++ pulls it in too)
  libboost-dev            # Boost.Asio (phase 2 RPC, coroutines) and Beast (phase 6 HTTP)
  libcereal-dev           # binary serialization of RPC payloads (phase 2)
  libspdlog-dev           # logging (text and JSON), pulls in libfmt-dev
  nlohmann-json3-dev      # JSON log lines: every field escaped (common/src/logging.cc)
  libcli11-dev            # command-line parsing for every tool and server
  libgtest-dev            # GoogleTest unit tests
  libgmock-dev            # GoogleMock matchers used by the tests
  libbenchmark-dev        # Google Benchmark micro-benchmarks
  libssl-dev              # TLS for clients and peers (phase 6)
  openssl                 # the openssl CLI: throwaway CAs and certificates in the TLS tests
  prometheus-cpp-dev      # Prometheus /metrics (phase 6)
  pybind11-dev            # the Python bindings: headers and CMake config (no Python module needed)
  python3-dev             # Python headers for the extension module
  python3-venv            # the venv built from /usr/bin/python3
  python3-pip             # pip inside that venv (installs tinykv itself)
  python3-setuptools      # setup.py drives CMake to build tinykv._core
  python3-pytest          # the Python test runner (tests/)
  python3-nbclient        # runs notebooks headless in the test suite
  python3-nbformat        # reads notebooks for nbclient
  python3-ipykernel       # the kernel nbclient starts
  python3-matplotlib      # plots in the notebooks
  clang                   # libFuzzer targets (-fsanitize=fuzzer)
  libclang-rt-14-dev      # clang's fuzzer and sanitizer runtimes
  libleveldb-dev          # benchmark reference only (phase 1 db_bench)
  librocksdb-dev          # benchmark reference only (phase 1 db_bench)
  redis-server            # benchmark reference only (phase 2 RPC bench)
  redis-tools             # redis-benchmark for that reference
  libgrpc++-dev           # gRPC C++ 1.51: etcd's v3 API (tinykv-bench's etcd backend, phase 5 etcd/)
  libprotobuf-dev         # protobuf 3.21 runtime and headers for the generated etcd messages
  protobuf-compiler-grpc  # grpc_cpp_plugin (pulls in protoc): the etcd .proto files are compiled at build time
  libabsl-dev             # Abseil, gRPC's base (tinykv-bench switches its mutex deadlock detection off)
  etcd-server             # benchmark reference only (phase 6 vs etcd)
  etcd-client             # etcdctl: the benchmarks' etcd checks, and the etcd API tests (tests/system)
  python3-etcd3           # etcd's Python client, driven against TinyKV's etcd API (tests/system)
  prometheus              # a real Prometheus server scraping tinykv-server in a system test (phase 6)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Package installs may start these services; TinyKV's benchmarks start their
# own instances on private ports and data directories instead.
for svc in redis-server etcd; do
  if command -v service >/dev/null && service "$svc" status >/dev/null 2>&1; then
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  fi
done
echo "install-deps: done"
