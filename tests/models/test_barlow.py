"""Barlow Twins: loss by hand, projector, two-view augmentation, linear probe."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neurogeom.errors import ShapeError
from neurogeom.models import (
    BarlowAugment,
    BarlowTwins,
    LinearProbe,
    Projector,
    ResNet,
    barlow_twins_loss,
)

torch.set_num_threads(1)


def loss_by_loops(z1: np.ndarray, z2: np.ndarray, lambd: float, eps: float) -> float:
    n, d = z1.shape
    zs = []
    for z in (z1, z2):
        out = np.empty_like(z)
        for j in range(d):
            mean = sum(z[b, j] for b in range(n)) / n
            var = sum((z[b, j] - mean) ** 2 for b in range(n)) / n
            for b in range(n):
                out[b, j] = (z[b, j] - mean) / math.sqrt(var + eps)
        zs.append(out)
    a, b_ = zs
    total = 0.0
    for i in range(d):
        for j in range(d):
            c = sum(a[b, i] * b_[b, j] for b in range(n)) / n
            total += (1 - c) ** 2 if i == j else lambd * c**2
    return total


@pytest.mark.parametrize("lambd", [0.005, 0.3])
def test_loss_matches_hand_computation(lambd):
    rng = np.random.default_rng(0)
    z1 = rng.normal(size=(7, 4))
    z2 = 0.5 * z1 + rng.normal(size=(7, 4))
    got = barlow_twins_loss(torch.tensor(z1), torch.tensor(z2), lambd=lambd)
    assert float(got) == pytest.approx(loss_by_loops(z1, z2, lambd, 1e-5), rel=1e-12)


def test_loss_zero_for_identical_decorrelated_views():
    # columns orthogonal with equal norms and zero mean: C = I (up to eps)
    h = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], float)
    z = torch.tensor(h[:, 1:])
    assert float(barlow_twins_loss(z, z, eps=0.0)) == pytest.approx(0.0, abs=1e-24)


def test_loss_rejects_bad_shapes():
    with pytest.raises(ShapeError):
        barlow_twins_loss(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ShapeError):
        barlow_twins_loss(torch.zeros(1, 3), torch.zeros(1, 3))


def test_projector_layout():
    p = Projector(8, (16, 16, 4))
    kinds = [type(m).__name__ for m in p]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert p(torch.zeros(3, 8)).shape == (3, 4)
    assert [type(m).__name__ for m in Projector(512, (128,))] == ["Linear"]
    with pytest.raises(ValueError):
        Projector(8, ())


def test_barlow_model_and_backbone_layers():
    torch.manual_seed(0)
    model = BarlowTwins(ResNet(18, None, width=1 / 16, stage_pool=8), (16, 8))
    names = dict(model.named_modules())
    assert {"backbone.stage1", "backbone.pooled4", "backbone.pool"} <= set(names)
    x = torch.rand(6, 3, 8, 8)
    loss = model.loss(x, x.flip(-1))
    loss.backward()
    assert math.isfinite(float(loss.detach())) and model.backbone.stem[0].weight.grad is not None
    with pytest.raises(ValueError, match="n_classes=None"):
        BarlowTwins(ResNet(18, 10, width=1 / 16))


def test_augment_shapes_ranges_and_seeds():
    x = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    aug = BarlowAugment()
    v1, v2 = aug(x, generator=torch.Generator().manual_seed(1))
    w1, w2 = aug(x, generator=torch.Generator().manual_seed(1))
    u1, _ = aug(x, generator=torch.Generator().manual_seed(2))
    assert v1.shape == v2.shape == x.shape
    for v in (v1, v2):
        assert float(v.min()) >= 0.0 and float(v.max()) <= 1.0
    torch.testing.assert_close(v1, w1, rtol=0, atol=0)
    torch.testing.assert_close(v2, w2, rtol=0, atol=0)
    assert not torch.equal(v1, u1) and not torch.equal(v1, v2)


def separable(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[8.0, 0, 0, 0], [0, 8.0, 0, 0], [0, 0, 8.0, 0]])
    y = np.repeat(np.arange(3), n)
    return centres[y] + rng.normal(size=(3 * n, 4)), y


def test_probe_predicts_separable_classes_and_entropy():
    X, y = separable()
    Xt, yt = separable(seed=1)
    probe = LinearProbe().fit(X, y)
    np.testing.assert_array_equal(probe.predict(Xt), yt)
    P = probe.predict_proba(Xt)
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-12)
    H = probe.entropy(Xt)
    np.testing.assert_allclose(H, -(P * np.log10(P)).sum(1), rtol=1e-12)
    assert np.all(H >= 0) and np.all(H <= math.log10(3))
    # halfway between two centres the probe is unsure: higher entropy than at a centre
    mid = np.array([[4.0, 4.0, 0, 0]])
    assert probe.entropy(mid)[0] > probe.entropy(np.array([[8.0, 0, 0, 0]]))[0]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probe_head_reproduces_probabilities(n_classes):
    X, y = separable()
    keep = y < n_classes
    probe = LinearProbe(C=0.1).fit(torch.tensor(X[keep]), y[keep])
    head = probe.head().double()
    P = torch.softmax(head(torch.tensor(X)), dim=1).detach().numpy()
    np.testing.assert_allclose(P, probe.predict_proba(X), rtol=1e-6, atol=1e-12)


def test_probe_rejects_bad_shapes():
    with pytest.raises(ShapeError):
        LinearProbe().fit(np.zeros(5), np.zeros(5))
    with pytest.raises(ShapeError):
        LinearProbe().fit(np.zeros((5, 2)), np.zeros(4))


def test_backbone_of_barlow_model_is_measurable_in_both_modes():
    from neurogeom import TorchResponseMap

    torch.manual_seed(0)
    model = BarlowTwins(ResNet(18, None, width=1 / 16, stage_pool=8), (16, 8)).eval()
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    T = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    layers = ["backbone.pooled3", "backbone.pool"]
    Jf = TorchResponseMap(model, layers, dtype=torch.float64, mode="forward").jacobian(x, T)
    Jr = TorchResponseMap(model, layers, dtype=torch.float64, mode="reverse").jacobian(x, T)
    for name in layers:
        torch.testing.assert_close(Jf[name], Jr[name], rtol=1e-10, atol=1e-12)
    assert Jf["backbone.pool"].shape == (2, 32, 2)
