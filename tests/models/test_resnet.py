"""CIFAR ResNet: stage selection, pooling, exact Jacobians vs finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurogeom import TorchResponseMap
from neurogeom.errors import LayerError
from neurogeom.models import ResNet, StagePool

torch.set_num_threads(1)


def tiny(depth: int = 18, activation: str = "gelu", stage_pool: int | None = 16) -> ResNet:
    torch.manual_seed(0)
    net = ResNet(depth, 10, activation=activation, width=1 / 16, stage_pool=stage_pool)
    # non-trivial batch-norm statistics, so eval mode differs from an identity
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def images(m: int = 3, seed: int = 1) -> torch.Tensor:
    return torch.randn(m, 3, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_stage_structure_and_widths():
    net34 = ResNet(34, width=1 / 16)
    assert [len(getattr(net34, s)) for s in net34.stage_layers] == [3, 4, 6, 3]
    assert net34.widths == (4, 8, 16, 32)
    net18 = ResNet(18)
    assert [len(getattr(net18, s)) for s in net18.stage_layers] == [2, 2, 2, 2]
    assert net18.widths == (64, 128, 256, 512) and net18.feature_dim == 512
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in net18.modules())
    assert net18.stem[0].kernel_size == (3, 3) and net18.stem[0].stride == (1, 1)


def test_stage_outputs_and_pooled_shapes():
    net = tiny()
    layers = [*net.stage_layers, *net.pooled_layers, "pool"]
    rm = TorchResponseMap(net, layers=layers, dtype=torch.float64)
    out = rm.responses(images())
    sizes = {"stage1": 4 * 8 * 8, "stage2": 8 * 4 * 4, "stage3": 16 * 2 * 2, "stage4": 32}
    for name, n in sizes.items():
        assert out[name].shape == (3, n)
    for name in net.pooled_layers:
        assert out[name].shape == (3, 16)
    assert out["pool"].shape == (3, 32)


def test_pooled_stage_is_block_mean_of_stage():
    net = tiny()
    rm = TorchResponseMap(
        net, layers=["stage1", "pooled1", "stage4", "pooled4"], dtype=torch.float64
    )
    out = rm.responses(images())
    # stage1 has 256 numbers per image: 16 contiguous runs of 16 in C order
    np.testing.assert_allclose(
        out["pooled1"], out["stage1"].reshape(3, 16, 16).mean(-1), rtol=1e-12
    )
    # stage4 is 32 x 1 x 1 here: pooling to 16 averages channel pairs
    np.testing.assert_allclose(out["pooled4"], out["stage4"].reshape(3, 16, 2).mean(-1), rtol=1e-12)


def test_stage_pool_of_last_stage_is_global_average_pool():
    x = torch.randn(2, 512, 4, 4)
    torch.testing.assert_close(StagePool(512)(x), x.mean(dim=(2, 3)))
    with pytest.raises(ValueError, match="smaller stage_pool"):
        StagePool(100)(torch.randn(1, 2, 3, 3))


def test_pooled_branches_do_not_change_the_output():
    plain, pooled = tiny(stage_pool=None), tiny(stage_pool=16)
    pooled.load_state_dict(plain.state_dict())
    x = images()
    torch.testing.assert_close(plain(x), pooled(x), rtol=0, atol=0)


def test_headless_resnet_returns_features():
    net = ResNet(18, None, width=1 / 16).eval()
    x = images()
    torch.testing.assert_close(net(x), net.features(x))
    assert net.classifier is None


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("layer", ["stage2", "pooled3", "pool"])
def test_stage_jacobian_matches_central_differences(mode, layer):
    net = tiny().double()
    x = images(2).double()
    rm = TorchResponseMap(net, layers=layer, mode=mode)
    J = rm.jacobian(x)  # (m, n, d)
    f = lambda z: rm.responses(z)  # noqa: E731
    gen = torch.Generator().manual_seed(3)
    h = 1e-5
    for _ in range(3):
        v = torch.randn(3, 8, 8, generator=gen, dtype=torch.float64)
        fd = (f(x + h * v) - f(x - h * v)) / (2 * h)
        jv = J @ v.reshape(-1)
        scale = jv.abs().max()
        assert (fd - jv).abs().max() <= 1e-7 * scale


def test_relu_variant_forward_and_reverse_agree():
    net = tiny(activation="relu")
    x = images(2).double()
    T = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    Jf = TorchResponseMap(net, layers="pooled2", dtype=torch.float64, mode="forward").jacobian(x, T)
    Jr = TorchResponseMap(net, layers="pooled2", dtype=torch.float64, mode="reverse").jacobian(x, T)
    torch.testing.assert_close(Jf, Jr, rtol=1e-10, atol=1e-12)


def test_plane_induced_metric_equals_projected_full_metric():
    net = tiny()
    x = images(2).double()
    Q, _ = torch.linalg.qr(
        torch.randn(192, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    )
    T = Q.T.reshape(2, 3, 8, 8)
    rm = TorchResponseMap(net, layers=["pooled2", "stage3"], dtype=torch.float64)
    full = rm.metric(x)
    plane = rm.metric(x, tangents=T)
    for name in rm.layers:
        expected = Q.T @ full[name] @ Q
        torch.testing.assert_close(plane[name], expected, rtol=1e-10, atol=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        ResNet(50)
    with pytest.raises(ValueError, match="activation"):
        ResNet(18, activation="tanh")
    with pytest.raises(ValueError, match="width"):
        ResNet(18, width=0)
    with pytest.raises(LayerError, match="pooled1"):
        TorchResponseMap(ResNet(18, width=1 / 16), layers="pooled1")
