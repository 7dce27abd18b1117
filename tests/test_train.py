"""The one training loop: its callbacks, its mean loss, its refusal of a diverged loss."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neurogeom.errors import ParameterError
from neurogeom.train import Callback, EpochRecord, Snapshots, training_loop


class _Record(Callback):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_start(self, model: nn.Module, epoch: int) -> None:
        self.events.append(("start", epoch))

    def on_epoch_end(self, model: nn.Module, record: EpochRecord) -> None:
        self.events.append(("end", record.epoch))


def _problem():
    torch.manual_seed(0)
    net = nn.Linear(3, 1).double()
    X, y = torch.randn(10, 3, dtype=torch.float64), torch.randn(10, 1, dtype=torch.float64)
    return net, X, y


def test_callbacks_run_before_training_and_after_each_epoch_of_a_resumed_run():
    net, X, y = _problem()
    rec = _Record()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    records = training_loop(
        net, opt, lambda i: ((net(X[i]) - y[i]) ** 2).mean(), lambda: [torch.arange(10)], 5,
        start=2, callbacks=[rec],
    )  # fmt: skip
    assert [r.epoch for r in records] == [3, 4, 5]
    assert rec.events == [("start", 2), ("end", 3), ("end", 4), ("end", 5)]


def test_snapshots_see_the_model_before_training_and_at_the_listed_epochs():
    net, X, y = _problem()
    w0 = net.weight.detach().clone()
    seen: dict[int, torch.Tensor] = {}
    snaps = Snapshots([0, 2], lambda e, m: seen.__setitem__(e, m.weight.detach().clone()))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    training_loop(net, opt, lambda i: ((net(X[i]) - y[i]) ** 2).mean(),
                  lambda: [torch.arange(10)], 3, callbacks=[snaps])  # fmt: skip
    assert sorted(seen) == [0, 2]
    assert torch.equal(seen[0], w0)
    assert not torch.equal(seen[2], w0) and not torch.equal(seen[2], net.weight.detach())


def test_the_epoch_loss_is_the_mean_over_samples_of_unequal_batches():
    net, X, y = _problem()
    opt = torch.optim.SGD(net.parameters(), lr=0.0)  # no step changes the loss
    per_sample = ((net(X) - y) ** 2).detach()[:, 0]
    loss = lambda i: ((net(X[i]) - y[i]) ** 2).mean()  # noqa: E731
    records = training_loop(net, opt, loss, lambda: torch.arange(10).split(7), 1)
    assert records[0].loss == pytest.approx(float(per_sample.mean()), rel=1e-14)


def test_a_diverged_loss_is_refused_naming_the_epoch_and_learning_rate():
    net, X, y = _problem()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    calls = {"n": 0}

    def loss(i):
        calls["n"] += 1
        out = ((net(X[i]) - y[i]) ** 2).mean()
        return out * float("nan") if calls["n"] == 3 else out

    with pytest.raises(ParameterError, match=r"became nan in epoch 2.*lr=0\.5"):
        training_loop(net, opt, loss, lambda: torch.arange(10).split(5), 4)
