"""Matrix-free metric products of TorchResponseMap against the formed metric."""

from __future__ import annotations

import math

import pytest
import torch

from neurogeom import TorchResponseMap
from neurogeom.errors import LayerError
from neurogeom.models import ResNet
from neurogeom.riemann import log_volume_element
from neurogeom.riemann.iterative import iterative_log_volume, stochastic_logdet, top_eigenvalues

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    net = ResNet(18, 10, width=1 / 16, stage_pool=16).eval()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    rm = TorchResponseMap(net, layers=["stage1", "pooled2"], dtype=torch.float64)
    return rm, x, rm.metric(x)


def test_products_equal_formed_metric(setup):
    rm, x, g = setup
    V = torch.randn(2, 3, 192, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for name in rm.layers:
        op = rm.metric_operator(x, layer=name)
        assert (op.n_points, op.dim) == (2, 192)
        torch.testing.assert_close(op(V), V @ g[name], rtol=1e-10, atol=1e-13)


def test_chunked_products_and_width_scale(setup):
    rm, x, g = setup
    small = TorchResponseMap(rm.model, layers="pooled2", dtype=torch.float64, chunk_size=2)
    op = small.metric_operator(x, scale="width")
    V = torch.randn(2, 3, 192, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(op(V), V @ g["pooled2"] / 16, rtol=1e-10, atol=1e-13)


def test_iterative_geometry_of_a_resnet_layer(setup):
    rm, x, g = setup
    op = rm.metric_operator(x, layer="pooled2")
    exact = torch.linalg.eigvalsh(g["pooled2"]).flip(-1)
    top = top_eigenvalues(op, 5, n_iter=40).eigenvalues
    assert float(((top - exact[:, :5]) / exact[:, :5]).abs().max()) < 1e-6
    logvol = iterative_log_volume(op, rank=16, n_iter=40)
    torch.testing.assert_close(logvol, log_volume_element(g["pooled2"], rank=16), rtol=1e-6, atol=0)


def test_stochastic_logdet_of_a_resnet_stage(setup):
    rm, x, g = setup
    op = rm.metric_operator(x, layer="stage1")  # 256 responses > 192 inputs: full rank
    exact = torch.linalg.slogdet(g["stage1"] + 0.1 * torch.eye(192, dtype=torch.float64))[1]
    est = stochastic_logdet(op, n_probes=30, n_iter=30, damping=0.1, seed=0)
    err = (est.logdet - exact).abs()
    assert bool((err <= 3 * est.stderr).all()) and bool((err <= 0.03 * exact.abs()).all())
    assert math.isfinite(float(est.stderr.max()))


def test_layer_must_be_named(setup):
    rm, x, _ = setup
    with pytest.raises(LayerError, match="layer="):
        rm.metric_operator(x)
    with pytest.raises(LayerError, match="stage3"):
        rm.metric_operator(x, layer="stage3")
    with pytest.raises(ValueError, match="scale"):
        rm.metric_operator(x, layer="stage1", scale="n")  # type: ignore[arg-type]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_metric_operator_on_cuda_matches_cpu(setup):
    rm, x, g = setup
    net = rm.model
    cuda_rm = TorchResponseMap(net, layers="pooled2", dtype=torch.float64, device="cuda")
    op = cuda_rm.metric_operator(x.cuda())
    top = top_eigenvalues(op, 5, n_iter=40).eigenvalues.cpu()
    exact = torch.linalg.eigvalsh(g["pooled2"]).flip(-1)[:, :5]
    assert float(((top - exact) / exact).abs().max()) < 1e-6
