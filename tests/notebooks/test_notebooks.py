"""Executes every notebook in notebooks/ headless (nbclient), as a smoke test
that they still run against the installed tinykv package (STYLE 24)."""

import json
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
KERNEL = "tinykv-test-python"


@pytest.fixture
def kernel_in_this_interpreter(tmp_path, monkeypatch):
    """A kernelspec that runs this interpreter (the venv with tinykv installed).

    Debian's default "python3" kernelspec starts /usr/bin/python3, which does not
    see the venv; JUPYTER_PATH is searched before every other kernelspec location.
    """
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"],
        "display_name": "TinyKV test kernel",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "MPLBACKEND": "Agg"},
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, kernel_in_this_interpreter):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    # Run in a scratch directory so notebooks' data never lands in the repo.
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=kernel_in_this_interpreter,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
