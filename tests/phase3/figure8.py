"""The Figure 8 scenario lives in the package (tinykv.raft.figure8_scenario) so
the notebook can use it too."""

from tinykv.raft import figure8_scenario as run_figure8  # noqa: F401
