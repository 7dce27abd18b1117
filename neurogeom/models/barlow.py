"""Barlow Twins: a ResNet backbone, a projector, the redundancy-reduction loss, two-view
augmentations, and a logistic-regression probe for predictions and entropy.

The model measured in the experiments (Figs. 5–6) is the backbone: its pooled features are
the module ``backbone.pool`` of :class:`BarlowTwins` (or ``pool`` of the backbone itself).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.augment import (
    color_jitter,
    gaussian_blur,
    random_grayscale,
    random_resized_crop,
    solarize,
)
from ..errors import ParameterError, ShapeError
from ..measure import entropy_log10
from .resnet import ResNet

__all__ = ["BarlowAugment", "BarlowTwins", "LinearProbe", "Projector", "barlow_twins_loss"]


class Projector(nn.Sequential):
    """Linear layers with batch norm and ReLU between them (none after the last).

    Parameters
    ----------
    in_features : int
        Size of the backbone features.
    sizes : sequence of int
        Output sizes of the linear layers: ``(8192, 8192, 8192)`` as in the Barlow Twins
        paper, or ``(128,)`` for the single linear layer of the reference demos.

    Examples
    --------
    >>> [type(m).__name__ for m in Projector(16, (32, 8))]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    """

    def __init__(self, in_features: int, sizes: Sequence[int]) -> None:
        dims = [int(in_features), *(int(s) for s in sizes)]
        if len(dims) < 2 or min(dims) < 1:
            raise ParameterError(
                f"projector sizes must be positive and non-empty; got {list(sizes)!r}."
            )
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(itertools.pairwise(dims)):
            layers.append(nn.Linear(a, b, bias=False))
            if i < len(dims) - 2:
                layers += [nn.BatchNorm1d(b), nn.ReLU()]
        super().__init__(*layers)


def _standardize(z: torch.Tensor, eps: float) -> torch.Tensor:
    mean = z.mean(0, keepdim=True)
    var = z.var(0, unbiased=False, keepdim=True)
    return (z - mean) / torch.sqrt(var + eps)


def barlow_twins_loss(
    z1: torch.Tensor, z2: torch.Tensor, lambd: float = 0.005, *, eps: float = 1e-5
) -> torch.Tensor:
    r"""Barlow Twins loss :math:`\sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2`.

    :math:`C = \tilde z_1^\top \tilde z_2 / N` is the cross-correlation of the two views'
    embeddings standardised over the batch (mean 0, biased variance 1 with ``eps`` added,
    as ``BatchNorm1d(affine=False)`` does in training mode).

    Parameters
    ----------
    z1, z2 : Tensor, shape (N, D)
        Embeddings of the two views of the same ``N`` images.
    lambd : float
        Weight of the off-diagonal (redundancy) term; 0.005 in the paper.
    eps : float
        Added to the batch variance.

    Returns
    -------
    Tensor, shape ()

    Examples
    --------
    >>> z = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    >>> float(barlow_twins_loss(z, z, lambd=0.0)) < 1e-6
    True
    """
    if z1.ndim != 2 or z1.shape != z2.shape:
        raise ShapeError(
            f"embeddings have shapes {tuple(z1.shape)} and {tuple(z2.shape)}; expected two "
            "(N, D) arrays of the same shape."
        )
    if z1.shape[0] < 2:
        raise ShapeError(f"a batch of {z1.shape[0]} cannot be standardised; use N >= 2.")
    c = _standardize(z1, eps).mT @ _standardize(z2, eps) / z1.shape[0]
    diag = torch.diagonal(c)
    on = (1 - diag).pow(2).sum()
    off = c.pow(2).sum() - diag.pow(2).sum()
    return on + lambd * off


class BarlowTwins(nn.Module):
    """Backbone (a :class:`ResNet` without classifier) plus :class:`Projector`.

    Parameters
    ----------
    backbone : ResNet
        Built with ``n_classes=None`` so its output is the pooled features.
    projector_sizes : sequence of int
        See :class:`Projector`.
    lambd : float
        Off-diagonal weight of :func:`barlow_twins_loss`.

    Examples
    --------
    >>> torch.manual_seed(0) and None
    >>> model = BarlowTwins(ResNet(18, None, width=1 / 16), (16,))
    >>> x = torch.rand(4, 3, 8, 8)
    >>> model(x).shape, model.backbone(x).shape
    (torch.Size([4, 16]), torch.Size([4, 32]))
    >>> float(model.loss(x, x.flip(-1))) > 0
    True
    """

    def __init__(
        self, backbone: ResNet, projector_sizes: Sequence[int] = (128,), lambd: float = 0.005
    ) -> None:
        super().__init__()
        if getattr(backbone, "classifier", None) is not None:
            raise ParameterError("the backbone must be a ResNet built with n_classes=None.")
        self.backbone = backbone
        self.projector = Projector(backbone.feature_dim, projector_sizes)
        self.lambd = float(lambd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Projector embeddings ``(m, D)`` of images ``(m, C, H, W)``."""
        return self.projector(self.backbone(x))

    def loss(self, view1: torch.Tensor, view2: torch.Tensor) -> torch.Tensor:
        """:func:`barlow_twins_loss` of the embeddings of two views of the same images."""
        return barlow_twins_loss(self(view1), self(view2), self.lambd)


@dataclass(frozen=True)
class BarlowAugment:
    """The asymmetric two-view augmentation of Barlow Twins, on images in ``[0, 1]``.

    Both views: random resized crop (``scale``) with horizontal flip, colour jitter
    (0.4, 0.4, 0.2, 0.1) with probability 0.8, grayscale with probability 0.2. View 1 is
    always blurred and never solarized; view 2 is blurred with probability 0.1 and
    solarized with probability 0.2.

    Parameters
    ----------
    scale : (float, float)
        Area range of the resized crop.
    blur_kernel : int
        Gaussian kernel size (3 for 32×32 images).
    blur_p, solarize_p : (float, float)
        Probabilities for (view 1, view 2).

    Examples
    --------
    >>> aug = BarlowAugment()
    >>> v1, v2 = aug(torch.rand(4, 3, 8, 8), generator=torch.Generator().manual_seed(0))
    >>> v1.shape == v2.shape == (4, 3, 8, 8)
    True
    """

    scale: tuple[float, float] = (0.08, 1.0)
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.2, 0.1)
    jitter_p: float = 0.8
    grayscale_p: float = 0.2
    blur_kernel: int = 3
    blur_p: tuple[float, float] = (1.0, 0.1)
    solarize_p: tuple[float, float] = (0.0, 0.2)

    def view(self, x: torch.Tensor, which: int, generator: torch.Generator | None) -> torch.Tensor:
        """One augmented view (``which`` 0 or 1) of images ``(m, 3, H, W)`` in ``[0, 1]``."""
        b, c, s, h = self.jitter
        y = random_resized_crop(x, scale=self.scale, generator=generator)
        y = color_jitter(
            y, brightness=b, contrast=c, saturation=s, hue=h, p=self.jitter_p, generator=generator
        )
        y = random_grayscale(y, p=self.grayscale_p, generator=generator)
        y = gaussian_blur(
            y, kernel_size=self.blur_kernel, p=self.blur_p[which], generator=generator
        )
        return solarize(y, p=self.solarize_p[which], generator=generator)

    def __call__(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Two views ``(m, 3, H, W)`` each of images ``x`` ``(m, 3, H, W)`` in ``[0, 1]``."""
        return self.view(x, 0, generator), self.view(x, 1, generator)


class LinearProbe:
    """Logistic-regression probe on frozen backbone features (scikit-learn).

    Features are standardised (mean and scale learned in :meth:`fit`) before a multinomial
    :class:`~sklearn.linear_model.LogisticRegression`.

    Parameters
    ----------
    C : float
        Inverse regularisation strength.
    max_iter : int
        Solver iterations.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-3, 1, (20, 2)), rng.normal(3, 1, (20, 2))]
    >>> y = np.r_[np.zeros(20, int), np.ones(20, int)]
    >>> probe = LinearProbe().fit(X, y)
    >>> probe.predict(np.array([[-3.0, -3.0], [3.0, 3.0]])).tolist()
    [0, 1]
    """

    def __init__(self, C: float = 1.0, max_iter: int = 1000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, features: Any, labels: Any) -> LinearProbe:
        """Fit on features ``(N, F)`` and integer labels ``(N,)``; returns self."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X, y = _features(features), np.asarray(labels)
        if y.shape != (X.shape[0],):
            raise ShapeError(f"labels have shape {y.shape}; expected ({X.shape[0]},).")
        self.pipeline_ = make_pipeline(
            StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter)
        ).fit(X, y)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, features: Any) -> np.ndarray:
        """Class probabilities ``(N, n_classes)``."""
        return np.asarray(self.pipeline_.predict_proba(_features(features)))

    def predict(self, features: Any) -> np.ndarray:
        """Predicted labels ``(N,)``."""
        return np.asarray(self.pipeline_.predict(_features(features)))

    def entropy(self, features: Any) -> np.ndarray:
        """Entropy ``−Σ p log₁₀ p`` of the predictions, ``(N,)`` (at most 1 for 10 classes)."""
        return entropy_log10(self.predict_proba(features))

    def head(self) -> nn.Module:
        """The fitted probe as a torch module: features ``(m, F)`` → logits ``(m, n_classes)``.

        ``softmax`` of its output equals :meth:`predict_proba`, so
        ``nn.Sequential(backbone, probe.head())`` is a differentiable classifier of images.
        """
        scaler, lr = self.pipeline_[0], self.pipeline_[-1]
        W = np.asarray(lr.coef_) / np.asarray(scaler.scale_)
        b = np.asarray(lr.intercept_) - W @ np.asarray(scaler.mean_)
        if W.shape[0] == 1:  # binary: p(class 1) = sigmoid(w·x + b) = softmax([0, w·x + b])
            W, b = np.r_[np.zeros_like(W), W], np.r_[0.0, b]
        layer = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(W))
            layer.bias.copy_(torch.as_tensor(b))
        return layer


def _features(features: Any) -> np.ndarray:
    X = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else features
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ShapeError(f"features have shape {X.shape}; expected (N, F).")
    return X
