"""Builds the tinykv Python package: setuptools drives CMake (DESIGN.md rule 7).

scikit-build-core would be the modern choice, but Debian 12 does not package it
and no PyPI is reachable, so a small build_ext subclass runs CMake instead.

    .venv/bin/pip install --no-build-isolation .

Environment:
  TINYKV_CMAKE_BUILD_DIR  reuse an existing CMake build directory (e.g.
                          build/ci) instead of configuring build/python.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("TINYKV_CMAKE_BUILD_DIR") or ROOT / "build" / "python")
        if not build_dir.is_absolute():
            build_dir = ROOT / build_dir
        if not (build_dir / "CMakeCache.txt").exists():
            self._run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                       "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                       f"-DPython3_EXECUTABLE={sys.executable}",
                       "-DTINYKV_BUILD_TESTS=OFF", "-DTINYKV_BUILD_BENCH=OFF"])
        self._run(["cmake", "--build", str(build_dir), "--target", "tinykv_python_package",
                   "-j", os.environ.get("TINYKV_BUILD_JOBS", "2")])
        manifest = (build_dir / "python" / "package_manifest.txt").read_text().split()
        module, binaries = Path(manifest[0]), [Path(p) for p in manifest[1:]]
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(module, dest)
        # Executables (tinykv-server, tinykv, ...) ship inside the package, so
        # tinykv.testing can start real servers from an installed package.
        bin_dir = dest.parent / "bin"
        bin_dir.mkdir(exist_ok=True)
        for b in binaries:
            shutil.copy2(b, bin_dir / b.name)

    @staticmethod
    def _run(cmd):
        print("+", " ".join(cmd), flush=True)
        subprocess.check_call(cmd, cwd=ROOT)


setup(ext_modules=[CMakeExtension("tinykv._core")], cmdclass={"build_ext": CMakeBuild})
