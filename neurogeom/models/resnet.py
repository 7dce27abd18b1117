"""CIFAR-style ResNet-18/34 with addressable (and optionally pooled) stage outputs.

The network follows the reference experiments (Figs. 3–6): a 3×3 convolutional stem without
max-pool, four stages of basic blocks at widths 64/128/256/512 (times ``width``), a global
average pool (the 4×4 pool of a 32×32 input) and a linear classifier. Every activation is
out of place and batch norm runs on its running statistics in eval mode, so the network can
be differentiated in forward mode (``torch.func.jvp``) as well as in reverse mode.

Module names that :class:`~neurogeom.maps.TorchResponseMap` can measure:

``stem``, ``stage1`` … ``stage4``
    The stem and the stage outputs, ``(m, C_s, H_s, W_s)``.
``pool``
    The pooled backbone features ``(m, 512·width)``.
``pooled1`` … ``pooled4``
    Only with ``stage_pool=D``: each stage output averaged down to ``D`` numbers (see
    :class:`StagePool`), the reference's common 512-d per-stage features.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ParameterError

__all__ = ["DEPTHS", "RESNET_ACTIVATIONS", "BasicBlock", "ResNet", "StagePool", "stage_widths"]

#: Blocks per stage for each supported depth.
DEPTHS: dict[int, tuple[int, int, int, int]] = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
#: Activations by name; all out of place.
RESNET_ACTIVATIONS: dict[str, type[nn.Module]] = {"gelu": nn.GELU, "relu": nn.ReLU}
_BASE_WIDTHS = (64, 128, 256, 512)


def stage_widths(width: float) -> tuple[int, int, int, int]:
    """Channels of the four stages at a width multiplier (each rounded, at least 1).

    The last is the pooled feature width (:attr:`ResNet.feature_dim`).

    Examples
    --------
    >>> stage_widths(1 / 16)
    (4, 8, 16, 32)
    """
    a, b, c, d = (max(1, round(w * width)) for w in _BASE_WIDTHS)
    return a, b, c, d


def _activation(name: str) -> nn.Module:
    if name not in RESNET_ACTIVATIONS:
        raise ParameterError(f"activation={name!r}; choose one of {sorted(RESNET_ACTIVATIONS)}.")
    return RESNET_ACTIVATIONS[name]()


class BasicBlock(nn.Module):
    """Two 3×3 conv–BN layers with an identity (or 1×1 conv–BN) shortcut.

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts.
    stride : int
        Stride of the first convolution (2 halves the resolution).
    activation : {"gelu", "relu"}
        Nonlinearity after the first conv and after the residual sum.

    Examples
    --------
    >>> block = BasicBlock(4, 8, stride=2)
    >>> block(torch.zeros(2, 4, 8, 8)).shape
    torch.Size([2, 8, 4, 4])
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, activation: str = "gelu"
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.act1 = _activation(activation)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act2 = _activation(activation)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out + self.shortcut(x))


class StagePool(nn.Module):
    """Average a feature map down to ``dim`` numbers per sample.

    The feature map is flattened in C order (channel, row, column) and split into ``dim``
    contiguous, nearly equal runs whose means are the outputs
    (``adaptive_avg_pool1d``). For a 512×4×4 last stage and ``dim = 512`` this is exactly
    the global average pool per channel; for earlier stages each output is the mean of a
    band of rows of one channel.

    Parameters
    ----------
    dim : int
        Output size.

    Examples
    --------
    >>> StagePool(8)(torch.ones(3, 4, 4, 4)).shape
    torch.Size([3, 8])
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        if dim < 1:
            raise ParameterError(f"dim={dim} must be a positive integer.")
        self.dim = int(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], 1, -1)
        if flat.shape[-1] < self.dim:
            raise ParameterError(
                f"cannot average {flat.shape[-1]} numbers per sample down to {self.dim}; "
                "use a smaller stage_pool."
            )
        return F.adaptive_avg_pool1d(flat, self.dim).reshape(x.shape[0], self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ResNet(nn.Module):
    """CIFAR-style ResNet-18/34: 3×3 stem, no max-pool, four stages, average pool, linear.

    Parameters
    ----------
    depth : {18, 34}
        Blocks per stage (2, 2, 2, 2) or (3, 4, 6, 3).
    n_classes : int or None
        Classifier outputs; ``None`` drops the classifier, so the forward pass returns the
        pooled backbone features (a backbone for self-supervised learning).
    activation : {"gelu", "relu"}
        Nonlinearity throughout.
    width : float
        Multiplier of the stage widths 64/128/256/512 (each rounded, at least 1 channel):
        1 is the standard network; small values give tiny networks for CPU tests.
    in_channels : int
        Input channels (3 for colour images).
    stage_pool : int or None
        If given, add modules ``pooled1`` … ``pooled4`` computing each stage output averaged
        down to ``stage_pool`` numbers (the reference pooled every stage to 512). They are
        side branches: the network's output does not depend on them.

    Examples
    --------
    >>> torch.manual_seed(0) and None
    >>> net = ResNet(18, n_classes=10, width=1 / 16, stage_pool=32)
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> net.stage_layers, net.pooled_layers[0], net.feature_layer
    (['stage1', 'stage2', 'stage3', 'stage4'], 'pooled1', 'pool')
    """

    def __init__(
        self,
        depth: int = 34,
        n_classes: int | None = 10,
        *,
        activation: str = "gelu",
        width: float = 1.0,
        in_channels: int = 3,
        stage_pool: int | None = None,
    ) -> None:
        super().__init__()
        if depth not in DEPTHS:
            raise ParameterError(f"depth={depth}; choose one of {sorted(DEPTHS)}.")
        if not width > 0:
            raise ParameterError(f"width={width} must be positive (1 is the standard network).")
        _activation(activation)
        self.depth, self.activation, self.width = depth, activation, float(width)
        self.widths = stage_widths(width)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, self.widths[0], 3, 1, 1, bias=False),
            nn.BatchNorm2d(self.widths[0]),
            _activation(activation),
        )
        c_in = self.widths[0]
        for s, (blocks, c_out) in enumerate(zip(DEPTHS[depth], self.widths, strict=True), start=1):
            stride = 1 if s == 1 else 2
            layers = [
                BasicBlock(c_in if b == 0 else c_out, c_out, stride if b == 0 else 1, activation)
                for b in range(blocks)
            ]
            self.add_module(f"stage{s}", nn.Sequential(*layers))
            if stage_pool is not None:
                self.add_module(f"pooled{s}", StagePool(stage_pool))
            c_in = c_out
        self.stage_pool = stage_pool
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c_in, n_classes) if n_classes is not None else None
        self.n_classes = n_classes

    @property
    def feature_dim(self) -> int:
        """Size of the pooled backbone features (512 at ``width=1``)."""
        return self.widths[-1]

    @property
    def stage_layers(self) -> list[str]:
        """Module names of the stage outputs, input side first."""
        return [f"stage{s}" for s in range(1, 5)]

    @property
    def pooled_layers(self) -> list[str]:
        """Module names of the pooled stage outputs (empty without ``stage_pool``)."""
        return [f"pooled{s}" for s in range(1, 5)] if self.stage_pool is not None else []

    @property
    def feature_layer(self) -> str:
        """Module name of the pooled backbone features."""
        return "pool"

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features ``(m, feature_dim)`` of images ``(m, C, H, W)``."""
        x = self.stem(x)
        for s in range(1, 5):
            x = getattr(self, f"stage{s}")(x)
            if self.stage_pool is not None:
                getattr(self, f"pooled{s}")(x)
        return self.pool(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.features(x)
        return self.classifier(feats) if self.classifier is not None else feats

    def extra_repr(self) -> str:
        return f"depth={self.depth}, activation={self.activation!r}, widths={self.widths}"
