"""A small, seeded training loop for classifiers, with snapshots at chosen epochs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._progress import progress as _progress
from .errors import ConfigError, ParameterError

__all__ = ["TrainConfig", "train_classifier"]

OPTIMIZERS = ("sgd", "adam", "adamw")
#: Below this many parameters a training step is too small to gain from intra-op threads
#: (they only add synchronisation, which is slow on a loaded machine), so it runs on one.
SMALL_MODEL = 100_000


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train_classifier` (all recorded with the results).

    Examples
    --------
    >>> TrainConfig(epochs=10).as_dict()["optimizer"]
    'sgd'
    """

    epochs: int = 100
    lr: float = 0.1
    batch_size: int = 50
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"setting 'optimizer' must be one of {OPTIMIZERS}; got {self.optimizer!r}."
            )
        for name in ("epochs", "batch_size", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ConfigError(f"setting {name!r} must be an integer; got {value!r}.")
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"setting {name!r} must be a number; got {value!r}.")
            if not math.isfinite(value):
                raise ConfigError(f"setting {name!r} must be a finite number; got {value!r}.")
        for name, ok, expected in (
            ("epochs", self.epochs >= 0, ">= 0"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("lr", self.lr > 0, "> 0"),
            ("momentum", self.momentum >= 0, ">= 0"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
        ):
            if not ok:
                raise ConfigError(
                    f"setting {name!r} must be {expected}; got {getattr(self, name)!r}."
                )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], seed: int) -> TrainConfig:
        """The training part of an experiment's settings, with this run's ``seed``.

        Examples
        --------
        >>> keys = ("epochs", "lr", "batch_size", "optimizer", "momentum", "weight_decay")
        >>> cfg = dict(zip(keys, (3, 0.1, 50, "sgd", 0.9, 0.0)))
        >>> TrainConfig.from_settings(cfg, seed=2).seed
        2
        """
        casts: dict[str, Callable[[Any], Any]] = {
            "epochs": int,
            "lr": float,
            "batch_size": int,
            "optimizer": str,
            "momentum": float,
            "weight_decay": float,
        }
        values: dict[str, Any] = {"seed": seed}
        for key, cast in casts.items():
            value = settings[key]
            if isinstance(value, float) and cast is int and not value.is_integer():
                raise ConfigError(f"setting {key!r} must be an integer; got {value!r}.")
            try:
                values[key] = cast(value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"setting {key!r} must be a {cast.__name__}; got {value!r}."
                ) from None
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the settings."""
        return asdict(self)


def _optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":  # decoupled weight decay
        return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )


def _epochs(epochs: int, progress: bool | str | None, desc: str) -> Iterable[int]:
    """``1..epochs`` through :func:`neurogeom._progress.progress` (a string: a labelled bar)."""
    if isinstance(progress, str):
        return _progress(range(1, epochs + 1), desc=progress, enabled=True)
    return _progress(range(1, epochs + 1), desc=desc, enabled=progress)


def train_classifier(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    config: TrainConfig,
    *,
    snapshot_epochs: Iterable[int] = (),
    on_snapshot: Callable[[int, nn.Module], None] | None = None,
    progress: bool | str | None = False,
    desc: str = "training",
) -> list[float]:
    """Train ``model`` (logits out) with cross-entropy on ``(X, y)``, in place.

    Parameters
    ----------
    model : nn.Module
        Maps a batch of stimuli to logits.
    X : array, shape (N, *stimulus_shape)
    y : array of int, shape (N,)
    config : TrainConfig
        Optimiser, learning rate, batch size, epochs and the seed of the shuffling.
    snapshot_epochs : iterable of int
        Epochs after which ``on_snapshot(epoch, model)`` is called; ``0`` means before
        training.
    on_snapshot : callable, optional
        Receives the epoch and the model (in training mode; do not keep a reference,
        copy what you need).
    progress : bool, str or None
        Progress bar over epochs on stderr: True always, False (default) never, None only
        when stderr is a terminal; a string shows a bar with that label.
    desc : str
        Label of the bar.

    Returns
    -------
    list of float
        Mean training loss of each epoch.

    Examples
    --------
    >>> from neurogeom.models import ShallowNet
    >>> from neurogeom.data import sinusoid_task
    >>> _ = torch.manual_seed(0)
    >>> X, y = sinusoid_task(100)
    >>> losses = train_classifier(ShallowNet(2, 10), X, y, TrainConfig(epochs=3))
    >>> len(losses)
    3
    """
    snaps = sorted({int(e) for e in snapshot_epochs})
    if snaps and not 0 <= snaps[0] <= snaps[-1] <= config.epochs:
        raise ParameterError(f"snapshot epochs {snaps} must lie in 0..{config.epochs}.")
    dtype = next(model.parameters()).dtype
    device = next(model.parameters()).device
    Xt = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    if len(Xt) != len(yt):
        raise ParameterError(f"X has {len(Xt)} samples but y has {len(yt)}.")
    gen = torch.Generator().manual_seed(config.seed)
    opt = _optimizer(model, config)
    history: list[float] = []
    if on_snapshot is not None and 0 in snaps:
        on_snapshot(0, model)
    model.train()
    small = sum(p.numel() for p in model.parameters()) < SMALL_MODEL
    with _single_thread(small and device.type == "cpu"):
        for epoch in _epochs(config.epochs, progress, desc):
            history.append(_epoch(model, Xt, yt, config.batch_size, opt, gen))
            if on_snapshot is not None and epoch in snaps:
                on_snapshot(epoch, model)
    return history


@contextmanager
def _single_thread(active: bool) -> Iterator[None]:
    threads = torch.get_num_threads()
    if active:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _epoch(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
) -> float:
    """One pass over shuffled mini-batches; returns the mean loss."""
    total = 0.0
    for idx in torch.randperm(len(X), generator=gen).to(X.device).split(batch_size):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / len(X)
