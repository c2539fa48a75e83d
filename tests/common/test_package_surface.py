"""The package's typed surface: every public function and method written in Python has a
docstring and annotations, and the stubs of the compiled module (tinykv/_core/*.pyi, which
ship with py.typed) match the installed extension."""

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import tinykv

MODULES = ["tinykv.client", "tinykv.lease", "tinykv.raft", "tinykv.testing", "tinykv.net", "tinykv.storage",
           "tinykv.common", "tinykv.prod", "tinykv.linearizability", "tinykv.errors"]
ROOT = Path(__file__).resolve().parents[2]


def _public_python_callables():
    for name in MODULES:
        mod = importlib.import_module(name)
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj
            elif inspect.isclass(obj):
                for meth, fn in vars(obj).items():
                    if isinstance(fn, property):
                        fn = fn.fget
                    if not inspect.isfunction(fn):
                        continue
                    if meth.startswith("_") and meth != "__init__":
                        continue
                    yield f"{name}.{attr}.{meth}", fn


@pytest.mark.parametrize("qualname,fn", list(_public_python_callables()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_public_callable_has_docstring_and_annotations(qualname, fn):
    sig = inspect.signature(fn)
    if fn.__name__ != "__init__":
        assert fn.__doc__, f"{qualname} has no docstring"
        assert sig.return_annotation is not inspect.Signature.empty, \
            f"{qualname} has no return annotation"
    for p in sig.parameters.values():
        if p.name in ("self", "cls") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        assert p.annotation is not inspect.Parameter.empty, \
            f"{qualname}: parameter {p.name} has no annotation"


def test_core_stubs_ship_and_match_the_extension():
    pkg = Path(tinykv.__file__).resolve().parent
    assert (pkg / "py.typed").exists()
    for sub in ("__init__", "common", "storage", "net", "raft", "client", "prod"):
        assert (pkg / "_core" / f"{sub}.pyi").exists(), f"_core/{sub}.pyi is not installed"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-stubs.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
