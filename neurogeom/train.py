"""The one training loop of the application, its callbacks, and the shallow classifiers' use of it.

:func:`training_loop` runs epochs of mini-batch steps and calls its callbacks before the
first epoch and after each one; everything an experiment does around training is a
callback: :class:`Snapshots` measures the model at chosen epochs (the shallow experiments),
the deep experiments' checkpoint writer (``neurogeom.experiments.train_deep``) saves
and resumes, :class:`EpochLog` prints a line per epoch, and the progress bar is the
package's one progress mechanism. :func:`train_classifier` is the loop with a cross-entropy
step on a tensor data set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._progress import progress as _progress
from .errors import ConfigError, ParameterError

__all__ = [
    "Callback",
    "EpochLog",
    "EpochRecord",
    "Snapshots",
    "TrainConfig",
    "train_classifier",
    "training_loop",
]

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


@dataclass(frozen=True)
class EpochRecord:
    """What one finished epoch of :func:`training_loop` gives its callbacks.

    Attributes
    ----------
    epoch : int
        The epoch, counted from 1 (0 is the state before training).
    loss : float
        Mean training loss over the epoch's samples.
    seconds : float
        Wall time of the epoch's steps.
    """

    epoch: int
    loss: float
    seconds: float


class Callback:
    """What :func:`training_loop` calls around training; override the hooks you need.

    ``on_start(model, epoch)`` runs once before the first epoch (``epoch`` is the epoch the
    loop starts after: 0 for a fresh run, the resumed epoch otherwise) and
    ``on_epoch_end(model, record)`` after every epoch. The model is in training mode in
    the loop: copy what you keep.

    Examples
    --------
    >>> class Count(Callback):
    ...     n = 0
    ...     def on_epoch_end(self, model, record):
    ...         self.n += 1
    """

    def on_start(self, model: nn.Module, epoch: int) -> None:
        """Called once, before the first epoch of the loop."""

    def on_epoch_end(self, model: nn.Module, record: EpochRecord) -> None:
        """Called after each epoch."""


class Snapshots(Callback):
    """Calls ``function(epoch, model)`` at the listed epochs (0: before training).

    Parameters
    ----------
    epochs : iterable of int
    function : callable
        Receives the epoch and the model (do not keep a reference to it).

    Examples
    --------
    >>> seen = []
    >>> snaps = Snapshots([0, 2], lambda e, m: seen.append(e))
    >>> snaps.on_start(None, 0); snaps.on_epoch_end(None, EpochRecord(1, 0.5, 0.0))
    >>> seen
    [0]
    """

    def __init__(self, epochs: Iterable[int], function: Callable[[int, nn.Module], None]) -> None:
        self.epochs = frozenset(int(e) for e in epochs)
        self.function = function

    def on_start(self, model: nn.Module, epoch: int) -> None:
        if epoch == 0 and 0 in self.epochs:
            self.function(0, model)

    def on_epoch_end(self, model: nn.Module, record: EpochRecord) -> None:
        if record.epoch in self.epochs:
            self.function(record.epoch, model)


class EpochLog(Callback):
    """Writes ``epoch 3/10  loss 0.1234  0.5 s`` through ``write`` after each epoch.

    Examples
    --------
    >>> EpochLog(print, 10).on_epoch_end(None, EpochRecord(3, 0.12345, 0.52))
    epoch 3/10  loss 0.1235  0.5 s
    """

    def __init__(self, write: Callable[[str], None], epochs: int) -> None:
        self.write = write
        self.epochs = epochs

    def on_epoch_end(self, model: nn.Module, record: EpochRecord) -> None:
        self.write(
            f"epoch {record.epoch}/{self.epochs}  loss {record.loss:.4f}  {record.seconds:.1f} s"
        )


def training_loop(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss: Callable[[torch.Tensor], torch.Tensor],
    batches: Callable[[], Iterable[torch.Tensor]],
    epochs: int,
    *,
    start: int = 0,
    callbacks: Sequence[Callback] = (),
    threads: int | None = None,
    progress: bool | str | None = False,
    desc: str = "training",
) -> list[EpochRecord]:
    """Train ``model`` in place from epoch ``start`` to ``epochs``; the one loop of the package.

    Each epoch draws its mini-batches from ``batches()`` (index tensors, drawn once at the
    start of the epoch), and for each takes one optimiser step on ``loss(index)``.

    Parameters
    ----------
    model : nn.Module
    optimizer : torch.optim.Optimizer
    loss : callable
        ``index -> scalar loss`` of one mini-batch (the samples ``index`` selects).
    batches : callable
        ``() -> iterable of index tensors``, one epoch's mini-batches.
    epochs : int
        The last epoch.
    start : int
        The epoch already done (a resumed run); the loop runs ``start + 1 .. epochs``.
    callbacks : sequence of Callback
        Snapshots, checkpoints, logs (see :class:`Callback`).
    threads : int, optional
        Intra-op CPU threads while training (restored afterwards); None keeps torch's.
    progress : bool, str or None
        Progress bar over epochs on stderr: True always, False (default) never, None only
        when stderr is a terminal; a string shows a bar with that label.
    desc : str
        Label of the bar.

    Returns
    -------
    list of EpochRecord
        One per epoch run.

    Raises
    ------
    ParameterError
        The loss became NaN or infinite (the message names the epoch and the learning rate).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Linear(2, 1)
    >>> X, y = torch.randn(8, 2), torch.randn(8, 1)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> mse = lambda i: ((net(X[i]) - y[i]) ** 2).mean()
    >>> records = training_loop(net, opt, mse, lambda: torch.arange(8).split(4), 3)
    >>> [r.epoch for r in records]
    [1, 2, 3]
    """
    for cb in callbacks:
        cb.on_start(model, start)
    model.train()
    records: list[EpochRecord] = []
    with _threads(threads):
        for epoch in _epochs(start, epochs, progress, desc):
            t0 = time.perf_counter()
            mean = _epoch(optimizer, loss, batches(), epoch)
            record = EpochRecord(epoch, mean, time.perf_counter() - t0)
            records.append(record)
            for cb in callbacks:
                cb.on_epoch_end(model, record)
    return records


def _epochs(start: int, epochs: int, progress: bool | str | None, desc: str) -> Iterable[int]:
    """``start+1..epochs`` through :func:`neurogeom._progress.progress` (a string: a label)."""
    if isinstance(progress, str):
        return _progress(range(start + 1, epochs + 1), desc=progress, enabled=True)
    return _progress(range(start + 1, epochs + 1), desc=desc, enabled=progress)


def _epoch(
    optimizer: torch.optim.Optimizer,
    loss: Callable[[torch.Tensor], torch.Tensor],
    batches: Iterable[torch.Tensor],
    epoch: int,
) -> float:
    """One pass over the mini-batches; returns the mean loss over their samples."""
    total, count = 0.0, 0
    for idx in batches:
        value = loss(idx)
        scalar = float(value.detach())
        if not math.isfinite(scalar):
            lr = optimizer.param_groups[0].get("lr")
            raise ParameterError(
                f"the training loss became {scalar} in epoch {epoch}; training diverged. "
                f"Lower the learning rate (lr={lr})."
            )
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        total += scalar * len(idx)
        count += len(idx)
    return total / max(1, count)


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":  # decoupled weight decay
        return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )


def train_classifier(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    config: TrainConfig,
    *,
    snapshot_epochs: Iterable[int] = (),
    on_snapshot: Callable[[int, nn.Module], None] | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool | str | None = False,
    desc: str = "training",
) -> list[float]:
    """Train ``model`` (logits out) with cross-entropy on ``(X, y)``, in place.

    :func:`training_loop` with shuffled mini-batches (seeded by ``config.seed``) and the
    optimiser of ``config``. Models under 100,000 parameters on a CPU train
    single-threaded: at that size intra-op threads only add synchronisation.

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
        training (a :class:`Snapshots` callback).
    on_snapshot : callable, optional
        Receives the epoch and the model (in training mode; do not keep a reference,
        copy what you need).
    callbacks : sequence of Callback
        More callbacks for the loop.
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

    def batches() -> Iterable[torch.Tensor]:
        return torch.randperm(len(Xt), generator=gen).to(device).split(config.batch_size)

    def loss(idx: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(model(Xt[idx]), yt[idx])

    every = list(callbacks)
    if on_snapshot is not None:
        every.insert(0, Snapshots(snaps, on_snapshot))
    small = sum(p.numel() for p in model.parameters()) < SMALL_MODEL
    records = training_loop(
        model,
        _optimizer(model, config),
        loss,
        batches,
        config.epochs,
        callbacks=every,
        threads=1 if small and device.type == "cpu" else None,
        progress=progress,
        desc=desc,
    )
    return [r.loss for r in records]
