"""Builds the tinykv Python package: setuptools drives CMake.

scikit-build-core would be the modern choice, but Debian 12 does not package it
and no PyPI is reachable, so a small build_ext subclass runs CMake instead.

    .venv/bin/pip install --no-build-isolation .      # add -v to watch the compile

It uses the same CMake build as the tests and the scripts (preset ``ci``,
``build/ci``): configured here if it does not exist yet, and only brought up to
date (usually a no-op) if it does, so the tree is compiled once for everything.
The extension module and the executables (tinykv, tinykv-server, ...) are
copied into the package stripped of their debug information, which stays in
the build tree (``build/ci``) for debuggers and profilers.

Environment:
  TINYKV_CMAKE_BUILD_DIR  another CMake build directory to take the module and
                          executables from (default: build/ci).
  TINYKV_BUILD_JOBS       parallel compile jobs (default 2).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
PRESET = "ci"


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("TINYKV_CMAKE_BUILD_DIR") or ROOT / "build" / PRESET)
        if not build_dir.is_absolute():
            build_dir = ROOT / build_dir
        if not (build_dir / "CMakeCache.txt").exists():
            self._run(["cmake", "--preset", PRESET, "-B", str(build_dir),
                       f"-DPython3_EXECUTABLE={sys.executable}"])
        self._run(["cmake", "--build", str(build_dir), "--target", "tinykv_python_package",
                   "-j", os.environ.get("TINYKV_BUILD_JOBS", "2")])
        manifest = (build_dir / "python" / "package_manifest.txt").read_text().split()
        module, binaries = Path(manifest[0]), [Path(p) for p in manifest[1:]]
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        _copy_stripped(module, dest)
        # Executables (tinykv-server, tinykv, ...) ship inside the package, so
        # tinykv.testing can start real servers from an installed package; the
        # console scripts of pyproject.toml put some of them on PATH.
        bin_dir = dest.parent / "bin"
        bin_dir.mkdir(exist_ok=True)
        for b in binaries:
            _copy_stripped(b, bin_dir / b.name)

    @staticmethod
    def _run(cmd):
        print("+", " ".join(cmd), flush=True)
        subprocess.check_call(cmd, cwd=ROOT)


def _copy_stripped(src: Path, dest: Path) -> None:
    """Copies src to dest without debug information and local symbols (binutils'
    strip; the dynamic symbol table that loading needs stays)."""
    strip = shutil.which("strip")
    if strip is None:
        print(f"strip not found: {dest.name} ships unstripped", flush=True)
        shutil.copy2(src, dest)
        return
    subprocess.check_call([strip, "--strip-unneeded", "-o", str(dest), str(src)])
    shutil.copymode(src, dest)
    print(f"packaged {dest.name}: {src.stat().st_size / 2**20:.1f} MiB -> "
          f"{dest.stat().st_size / 2**20:.1f} MiB stripped", flush=True)


setup(ext_modules=[CMakeExtension("tinykv._core")], cmdclass={"build_ext": CMakeBuild},
      # setuptools' own scratch space, out of the way of the CMake build dirs.
      options={"build": {"build_base": str(Path("build") / "setuptools")}})
