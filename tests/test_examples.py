"""Every example script runs (with small settings) and does what it says."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script: str, *args: str) -> None:
    argv = sys.argv
    sys.argv = [script, *args]
    try:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    finally:
        sys.argv = argv


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("jacobians_and_metrics.py", ()),
        ("own_map.py", ()),
        ("plane_of_images.py", ("--resolution", "6", "--out", "{tmp}/p.png")),
        ("datasets_and_files.py", ("--out", "{tmp}/line.nc")),
        ("demo_api.py", ("--out", "{tmp}/demo", "--epochs", "2")),
        ("place_cells.py", ("--presentations", "1000", "--bootstrap", "10")),
        ("curvature_shallow.py", ("--out", "{tmp}/c.png", "--steps", "20", "--res", "9")),
        ("geodesics_2d.py", ("--out", "{tmp}/g.png", "--resolution", "8")),
        ("digit_distances.py", ("--out", "{tmp}/d.png", "--per-class", "2", "--nodes", "8")),
        pytest.param(
            "curvature_from_trials.py",
            ("--presentations", "1500", "--bootstrap", "5", "--resolution", "3", "--steps", "20"),
            marks=pytest.mark.slow,
        ),
    ],
)
def test_example_runs(script, args, tmp_path):
    run(script, *(a.format(tmp=tmp_path) for a in args))
