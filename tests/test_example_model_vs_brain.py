"""The model-vs-brain example runs end to end (small settings) and writes its outputs."""

import runpy
import sys
from pathlib import Path

import neurogeom as ng

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "model_vs_brain.py"


def test_model_vs_brain_example_runs(tmp_path, capsys):
    argv = sys.argv
    sys.argv = [
        str(SCRIPT),
        "--out",
        str(tmp_path),
        "--resolution",
        "8",
        "--bootstrap",
        "20",
        "--presentations",
        "600",
        "--epochs",
        "5",
    ]
    try:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    finally:
        sys.argv = argv
    out = capsys.readouterr().out
    assert "model vs recording" in out and "bandwidth chosen by 4-fold CV" in out
    assert (tmp_path / "model_vs_brain.png").stat().st_size > 10_000
    res = ng.load(tmp_path / "model_vs_recording.nc")
    assert res.attrs["label_b"] == "recording" and int(res.n_compared) == 64
