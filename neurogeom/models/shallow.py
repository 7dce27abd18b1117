"""The seed's shallow networks: Φⱼ(x) = φ(wⱼ·x + bⱼ)/√n with a linear readout."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from ..errors import ParameterError

__all__ = ["ACTIVATIONS", "ScaledLinear", "ShallowNet"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
}


class ScaledLinear(nn.Module):
    """Linear layer ``x ↦ (W x + b) · scale`` with N(0, 1) initial weights and biases.

    Parameters
    ----------
    in_features, out_features : int
        Input and output sizes.
    scale : float
        Fixed output factor (not trained).
    bias : bool
        Whether to add a bias.

    Examples
    --------
    >>> layer = ScaledLinear(3, 2, scale=0.5)
    >>> layer(torch.zeros(4, 3)).shape
    torch.Size([4, 2])
    """

    def __init__(self, in_features: int, out_features: int, scale: float = 1.0, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None
        self.scale = float(scale)

    @property
    def in_features(self) -> int:
        """Input size, as ``nn.Linear`` declares it."""
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        """Output size."""
        return int(self.weight.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = nn.functional.linear(x, self.weight, self.bias)
        return out if self.scale == 1.0 else out * self.scale

    def extra_repr(self) -> str:
        return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}, scale={self.scale:.4g}"


class _Hidden(nn.Module):
    """One hidden layer Φⱼ(x) = φ(wⱼ·x + bⱼ)/√n; its weights are ``linear.weight``."""

    def __init__(self, d: int, n: int, activation: str):
        super().__init__()
        self.linear = ScaledLinear(d, n)
        self.activation = ACTIVATIONS[activation]()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x)) / math.sqrt(self.n)


class ShallowNet(nn.Module):
    """The poster's network: hidden layers Φⱼ = φ(wⱼ·x + bⱼ)/√n and a readout Linear(n, c)/√n.

    All weights and biases start N(0, 1). The hidden layers are the modules ``hidden0``,
    ``hidden1``, … (``hidden`` is an alias of the last one's name in :attr:`feature_layer`);
    the logits are the model's output.

    Parameters
    ----------
    in_features : int
        Stimulus dimension ``d``.
    widths : int or sequence of int
        Hidden widths: ``25`` for the poster's 2 → 25 → 2 net, ``(8, 8, 8)`` for the deep one.
    n_classes : int
        Number of outputs.
    activation : {"sigmoid", "tanh", "relu", "gelu"}
        Hidden nonlinearity φ.

    Examples
    --------
    >>> torch.manual_seed(0) and None
    >>> net = ShallowNet(2, 25)
    >>> net(torch.zeros(5, 2)).shape
    torch.Size([5, 2])
    >>> net.feature_layer
    'hidden0'
    """

    def __init__(
        self,
        in_features: int = 2,
        widths: int | Sequence[int] = 25,
        n_classes: int = 2,
        activation: str = "sigmoid",
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ParameterError(f"activation={activation!r}; choose one of {sorted(ACTIVATIONS)}.")
        sizes = [widths] if isinstance(widths, int) else list(widths)
        if not sizes or min(sizes) < 1 or in_features < 1:
            raise ParameterError(
                f"widths and in_features must be positive; got {widths!r}, {in_features}."
            )
        dims = [in_features, *sizes]
        for i, (a, b) in enumerate(itertools.pairwise(dims)):
            self.add_module(f"hidden{i}", _Hidden(a, b, activation))
        self.readout = ScaledLinear(sizes[-1], n_classes, scale=1 / math.sqrt(sizes[-1]))
        self.activation = activation
        self.widths = tuple(sizes)

    @property
    def hidden_layers(self) -> list[str]:
        """Module names of the hidden layers, input side first."""
        return [f"hidden{i}" for i in range(len(self.widths))]

    @property
    def feature_layer(self) -> str:
        """Module name of the last hidden layer (the feature map Φ)."""
        return self.hidden_layers[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.hidden_layers:
            x = getattr(self, name)(x)
        return self.readout(x)
