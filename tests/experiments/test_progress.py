"""Progress bars: on by default in a terminal, off otherwise or when switched off."""

from __future__ import annotations

import io
import sys

import pytest

from neurogeom.cli import main
from neurogeom.data import sinusoid_task
from neurogeom.experiments import deep, mnist, toy, toy_deep
from neurogeom.models import ShallowNet
from neurogeom.train import TrainConfig, train_classifier


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture(params=[_Terminal, _Pipe])
def stderr(request, monkeypatch):
    """A fake stderr, installed when called (pytest's capturing resets it after setup)."""

    def install():
        fake = request.param()
        monkeypatch.setattr(sys, "stderr", fake)
        return fake

    return install


def _train(progress):
    X, y = sinusoid_task(20, seed=0)
    train_classifier(ShallowNet(2, 3), X, y, TrainConfig(epochs=3), progress=progress)


def test_training_bar_follows_the_terminal(stderr):
    stderr = stderr()
    _train(None)
    shown = "training" in stderr.getvalue()
    assert shown == stderr.isatty()


def test_training_bar_forced_on_and_off(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _train(False)
    assert terminal.getvalue() == ""
    pipe = _Pipe()
    monkeypatch.setattr(sys, "stderr", pipe)
    _train(True)
    assert "training" in pipe.getvalue() and "/3" in pipe.getvalue()


def test_train_classifier_uses_the_one_progress_mechanism():
    import inspect

    import neurogeom.train

    assert "tqdm" not in inspect.getsource(neurogeom.train)


@pytest.mark.parametrize("module", [toy, toy_deep, deep, mnist])
def test_experiments_default_to_auto(module):
    for name in dir(module):
        if name.endswith("DEFAULTS") and isinstance(getattr(module, name), dict):
            assert getattr(module, name)["progress"] is None, name


def test_deep_training_prints_no_lines():
    import inspect

    assert "print" not in inspect.getsource(deep)  # its training loop included


def test_run_shows_bars_in_a_terminal_only(tmp_path, stderr):
    stderr = stderr()
    cfg = tmp_path / "c.toml"
    cfg.write_text("widths = [3]\nepochs = 2\nseeds = [0]\ngrid_resolution = 4\n")
    assert main(["run", "toy", "--config", str(cfg), "--out", str(tmp_path)]) == 0
    text = stderr.getvalue()
    assert ("width 3, seed 0: training" in text) == stderr.isatty()
    stderr.seek(0)
    stderr.truncate()
    assert main(["run", "toy", "--config", str(cfg), "--out", str(tmp_path), "--no-progress"]) == 0
    assert stderr.getvalue() == ""
