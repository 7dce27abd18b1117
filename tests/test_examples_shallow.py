"""The shallow-network example scripts run with tiny settings and write what they say."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("script", "files"),
    [
        ("shallow_toy.py", ["fig1_volume.png", "toy.nc"]),
        ("mnist_line.py", ["mnist-line.nc", "mnist_line.png"]),
        ("mnist_plane.py", ["mnist-plane.nc", "mnist_plane.png", "mnist_plane_ternary.png"]),
    ],
)
def test_example_runs(script, files, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, "--quick", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
