"""Executes every notebook in notebooks/ headless (nbclient) against the installed tinykv
package, and checks what a reader would see: every cell that shows a plot produced a
rendered figure (an image/png output), and no cell shows stderr -- C++ log lines or
warnings belong in a log file, not in the lesson."""

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
    The kernel uses matplotlib's inline backend, as Jupyter does, so figures come
    back as image/png outputs (a non-interactive backend such as Agg would show
    nothing, in Jupyter too).
    """
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"],
        "display_name": "TinyKV test kernel",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1",
                "MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def _source(cell):
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def check_outputs(nb):
    """Problems a reader would meet in an executed notebook, as strings."""
    problems = []
    figures = 0
    for n, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        outputs = cell.get("outputs", [])
        pngs = sum("image/png" in o.get("data", {}) for o in outputs)
        figures += pngs
        if "plt.show()" in _source(cell) and pngs == 0:
            problems.append(f"cell {n} calls plt.show() but shows no figure")
        for o in outputs:
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                problems.append(f"cell {n} writes to stderr: {o.get('text', '')[:300]!r}")
    if figures == 0:
        problems.append("no figure at all")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_renders_its_figures(path, tmp_path, kernel_in_this_interpreter):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    # Run in a scratch directory so notebooks' data never lands in the repo.
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=kernel_in_this_interpreter,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
    assert check_outputs(nb) == []
