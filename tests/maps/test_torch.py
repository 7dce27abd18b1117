"""TorchResponseMap against closed forms (ground_truth.md), finite differences and itself."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import neurogeom as ng
from neurogeom.errors import LayerError, NonFiniteError, ShapeError
from neurogeom.models import ShallowNet

F64 = torch.float64


def polar(x):
    rho, th = x[:, 0], x[:, 1]
    return torch.stack([rho * torch.cos(th), rho * torch.sin(th)], 1)


def sphere(a):
    def f(x):
        th, ph = x[:, 0], x[:, 1]
        return a * torch.stack(
            [torch.sin(th) * torch.cos(ph), torch.sin(th) * torch.sin(ph), torch.cos(th)], 1
        )

    return f


def paraboloid(x):
    return torch.stack([x[:, 0], x[:, 1], x[:, 0] ** 2 + x[:, 1] ** 2], 1)


def torus(c, a):
    def f(x):
        u, v = x[:, 0], x[:, 1]
        return torch.stack(
            [
                (c + a * torch.cos(v)) * torch.cos(u),
                (c + a * torch.cos(v)) * torch.sin(u),
                a * torch.sin(v),
            ],
            1,
        )

    return f


def exact_metrics(x):
    """(map, closed-form metric (m, 2, 2)) pairs for 2-D charts at points x (m, 2)."""
    p, q = x[:, 0], x[:, 1]
    diag = lambda a, b: np.stack([np.stack([a, 0 * a], -1), np.stack([0 * a, b], -1)], -2)  # noqa: E731
    xy = np.stack([p, q], -1)
    yield polar, diag(np.ones_like(p), p**2)
    yield sphere(2.5), diag(np.full_like(p, 2.5**2), 2.5**2 * np.sin(p) ** 2)
    yield paraboloid, np.eye(2) + 4 * xy[:, :, None] * xy[:, None, :]
    yield torus(3.0, 1.2), diag((3.0 + 1.2 * np.cos(q)) ** 2, np.full_like(p, 1.2**2))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_maps_with_known_metrics(rng, mode):
    x = rng.uniform(0.3, 1.2, size=(9, 2))
    for f, g in exact_metrics(x):
        rm = ng.TorchResponseMap(f, dtype=F64, mode=mode)
        np.testing.assert_allclose(rm.metric(x), g, rtol=1e-12, atol=1e-14)


def test_linear_and_circle_metrics(rng):
    W = torch.tensor(rng.normal(size=(6, 3)))
    rm = ng.TorchResponseMap(lambda x: x @ W.T, dtype=F64)
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(rm.metric(x), np.broadcast_to(W.T @ W, (4, 3, 3)), rtol=1e-12)
    rho = 1.7
    circle = ng.TorchResponseMap(
        lambda t: (
            rho * torch.cat([torch.cos(t), torch.sin(t), torch.zeros(len(t), 3, dtype=t.dtype)], 1)
        ),
        dtype=F64,
    )
    np.testing.assert_allclose(circle.metric(rng.normal(size=(5, 1))), rho**2, rtol=1e-13)


def test_rank_deficient_linear_map_pseudo_determinant(rng):
    W = rng.normal(size=(2, 5))
    Wt = torch.tensor(W)
    rm = ng.TorchResponseMap(lambda x: x @ Wt.T, dtype=F64)
    logvol = ng.log_volume_element(rm.metric(rng.normal(size=(3, 5))), rank=2)
    np.testing.assert_allclose(logvol, 0.5 * np.log(np.linalg.det(W @ W.T)), rtol=1e-10)


def test_random_feature_relu_has_identity_metric_on_average(rng):
    n, d = 200_000, 5
    W = torch.tensor(rng.normal(size=(n, d)))
    rm = ng.TorchResponseMap(lambda x: math.sqrt(2 / n) * torch.relu(x @ W.T), dtype=F64)
    g = rm.metric(rng.normal(size=(2, d)))
    assert np.abs(g - np.eye(d)).max() < 0.03  # ground truth: ~0.008 at this size


def central_differences(f, x, h=1e-5):
    """Jacobian (m, n, d) of a batch function by central differences, float64."""
    m, d = x.shape[0], x[0].numel()
    cols = []
    for i in range(d):
        e = torch.zeros(d, dtype=F64)
        e[i] = h
        e = e.reshape(x.shape[1:])
        cols.append(((f(x + e) - f(x - e)) / (2 * h)).reshape(m, -1))
    return torch.stack(cols, -1).numpy()


def test_autograd_matches_finite_differences_on_random_mlp(rng):
    net = nn.Sequential(
        nn.Linear(4, 16), nn.GELU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)
    ).double()
    x = torch.tensor(rng.normal(size=(5, 4)))
    rm = ng.TorchResponseMap(net, layers="3")
    with torch.no_grad():
        fd = central_differences(lambda z: net[:4](z), x)
    np.testing.assert_allclose(rm.jacobian(x).numpy(), fd, rtol=1e-7, atol=1e-9)


class TinyConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.act = nn.GELU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        z = self.pool(self.act(self.bn(self.conv(x))))
        return self.head(z.flatten(1))


def test_autograd_matches_finite_differences_on_conv_net_with_images(rng):
    net = TinyConv().double()
    net.bn.running_mean.normal_()
    net.bn.running_var.uniform_(0.5, 2.0)
    x = torch.tensor(rng.normal(size=(3, 3, 6, 6)))
    rm = ng.TorchResponseMap(net, layers=["pool", "head"])
    J = rm.jacobian(x)
    assert J["pool"].shape == (3, 16, 108) and J["head"].shape == (3, 5, 108)
    net.eval()
    with torch.no_grad():
        fd = central_differences(net, x)
    np.testing.assert_allclose(J["head"].numpy(), fd, rtol=1e-6, atol=1e-8)
    assert net.training is False  # it was in eval mode before the call, and stays so


def test_induced_metric_is_T_g_Tt(rng):
    net = TinyConv().double()
    x = rng.normal(size=(2, 3, 6, 6))
    T = np.linalg.qr(rng.normal(size=(108, 2)))[0].T.reshape(2, 3, 6, 6)
    rm = ng.TorchResponseMap(net, layers="head")
    g = rm.metric(x)
    Tf = T.reshape(2, -1)
    np.testing.assert_allclose(rm.metric(x, tangents=T), Tf @ g @ Tf.T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(
        ng.TorchResponseMap(net, layers="head", mode="reverse").metric(x, tangents=T),
        Tf @ g @ Tf.T,
        rtol=1e-10,
        atol=1e-14,
    )


def test_closed_form_shallow_net_metric_equals_autograd(rng):
    net = ShallowNet(3, 40, activation="tanh").double()
    x = rng.normal(size=(6, 3))
    W = net.hidden0.linear.weight.detach().numpy()
    b = net.hidden0.linear.bias.detach().numpy()
    dphi = 1 - np.tanh(x @ W.T + b) ** 2
    g = np.einsum("mj,ja,jb->mab", dphi**2, W, W) / 40
    rm = ng.TorchResponseMap(net, net.feature_layer)
    np.testing.assert_allclose(rm.metric(x), g, rtol=1e-12)


def test_several_layers_in_one_call_equal_separate_calls(rng):
    net = ShallowNet(2, (8, 6, 5)).double()
    x = rng.normal(size=(7, 2))
    names = [*net.hidden_layers, "readout"]
    together = ng.TorchResponseMap(net, names).jacobian(x)
    assert list(together) == names
    for name in names:
        np.testing.assert_allclose(
            together[name], ng.TorchResponseMap(net, name).jacobian(x), rtol=1e-14
        )
    responses = ng.TorchResponseMap(net, names).responses(x)
    np.testing.assert_allclose(
        responses["readout"], net(torch.tensor(x)).detach().numpy(), rtol=1e-14
    )


def test_chunking_and_modes_agree(rng):
    net = ShallowNet(5, 7).double()
    x = rng.normal(size=(11, 5))
    ref = ng.TorchResponseMap(net, "hidden0", chunk_size=10_000, mode="forward").jacobian(x)
    for kwargs in ({"chunk_size": 1}, {"chunk_size": 13, "mode": "reverse"}, {"chunk_size": 3}):
        np.testing.assert_allclose(
            ng.TorchResponseMap(net, "hidden0", **kwargs).jacobian(x), ref, rtol=1e-13
        )


def test_array_kind_dtype_and_model_state_are_preserved(rng):
    net = ShallowNet(2, 4)  # float32 parameters
    net.train()
    rm = ng.TorchResponseMap(net, "hidden0", dtype=F64)
    x = rng.normal(size=(3, 2))
    J = rm.jacobian(x)
    assert isinstance(J, np.ndarray) and J.dtype == np.float64
    Jt = rm.jacobian(torch.tensor(x))
    assert isinstance(Jt, torch.Tensor) and Jt.dtype == F64
    assert net.training and net.hidden0.training
    assert net.hidden0.linear.weight.dtype == torch.float32
    assert net.hidden0.linear.weight.grad is None
    assert isinstance(rm.responses(x), np.ndarray)
    np.testing.assert_allclose(
        ng.TorchResponseMap(net, "hidden0").jacobian(x.astype(np.float32)), J, rtol=1e-5, atol=1e-6
    )


def test_bad_inputs_raise_clear_errors(rng):
    net = ShallowNet(2, 4)
    with pytest.raises(LayerError, match="no layer named 'hiden0'.*Valid names: hidden0"):
        ng.TorchResponseMap(net, "hiden0")
    with pytest.raises(LayerError, match="nn.Module"):
        ng.TorchResponseMap(lambda x: x, layers="a")
    rm = ng.TorchResponseMap(net, "hidden0")
    with pytest.raises(NonFiniteError, match="points contains 1 NaN"):
        rm.jacobian(np.array([[0.0, np.nan]]))
    with pytest.raises(ShapeError, match="first axis indexes points"):
        rm.jacobian(np.zeros(2))
    with pytest.raises(ShapeError, match=r"expected \(k, 2\)"):
        rm.jacobian(np.zeros((3, 2)), tangents=np.zeros(2))
    with pytest.raises(ShapeError, match="tangents has shape"):
        rm.jacobian(np.zeros((3, 2)), tangents=np.zeros((1, 3)))
    with pytest.raises(ValueError, match="mode="):
        ng.TorchResponseMap(net, mode="sideways")
    with pytest.raises(TypeError, match="not a tensor"):
        ng.TorchResponseMap(nn.LSTM(2, 3)).jacobian(np.zeros((2, 1, 2)))


def test_threads_measuring_one_model_do_not_see_each_others_hooks(rng):
    from concurrent.futures import ThreadPoolExecutor

    net = ShallowNet(3, (6, 5)).double()
    maps = [ng.TorchResponseMap(net, name) for name in ("hidden0", "hidden1")]
    x = rng.normal(size=(40, 3))
    expected = [rm.jacobian(x) for rm in maps]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: maps[i % 2].jacobian(x), range(16)))
    for i, J in enumerate(results):
        np.testing.assert_allclose(J, expected[i % 2], rtol=1e-14)
    assert not net.hidden0._forward_hooks and not net.hidden1._forward_hooks
