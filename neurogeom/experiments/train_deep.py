"""Training of the deep models of Figs. 3–6: supervised ResNets and Barlow Twins.

:func:`train` runs SGD (momentum 0.9; learning rate, weight decay, batch size and
epochs from :class:`DeepTrainConfig`, defaults as in the reference experiments), on a GPU
when one is present, and writes into an output folder

* ``config.json`` — the settings (checked again on resume),
* ``epoch_XXXX.pt`` — a checkpoint at each epoch listed in
  ``DeepTrainConfig.checkpoints`` (epoch 0 is the initialisation),
* ``latest.pt`` — the state after the last finished epoch, from which a stopped run resumes,
* ``history.json`` — loss and wall time per epoch.

Every checkpoint holds the model and optimizer state, the random-generator state, the
config, the history and a description of the data (``source`` tells CIFAR-10 from the
synthetic stand-in). Full CIFAR runs are GPU jobs (hours); on a CPU use smoke sizes
(a small ``width``, a data subset and a few epochs). The command line is
``neurogeom train`` (:mod:`neurogeom.cli`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from ..data.augment import random_crop_flip
from ..data.cifar import ImageData, normalize
from ..dataset import software_versions
from ..errors import FileWriteError, InputTypeError, NeurogeomError, ParameterError
from ..models.barlow import BarlowAugment, BarlowTwins
from ..models.resnet import ResNet
from ..train import Callback, EpochLog, EpochRecord, training_loop

__all__ = [
    "Checkpoint",
    "DeepTrainConfig",
    "build_model",
    "extract_features",
    "load_checkpoint",
    "resolve_device",
    "train",
]

Method = Literal["supervised", "barlow"]
_FORMAT = "neurogeom-checkpoint"


@dataclass(frozen=True)
class DeepTrainConfig:
    """Settings of a deep training run (JSON-able through :meth:`to_dict`).

    The shallow experiments' training loop has its own settings,
    :class:`neurogeom.train.TrainConfig`.

    Parameters
    ----------
    method : {"supervised", "barlow"}
        Cross-entropy on labels, or the Barlow Twins loss on two augmented views.
    depth, activation, width, stage_pool
        The :class:`~neurogeom.models.ResNet` (``width`` multiplies 64/128/256/512).
    n_classes : int
        Classifier outputs (supervised only).
    projector : tuple of int
        Barlow Twins projector sizes (``(128,)`` as the reference demos, ``(8192,) * 3``
        as the paper).
    lambd : float
        Barlow Twins off-diagonal weight.
    epochs, batch_size, lr, momentum, weight_decay
        SGD settings; defaults are the reference's (500 epochs of batch 1024, lr 0.01,
        momentum 0.9, weight decay 1e-4).
    checkpoints : tuple of int
        Epochs after which a checkpoint is kept (0 = before training).
    seed : int
        Seeds the initialisation, the shuffling and the augmentations.
    augment : bool
        Random crop + flip for supervised training (Barlow Twins always augments).

    Examples
    --------
    >>> cfg = DeepTrainConfig(method="barlow", width=0.25, epochs=2, checkpoints=(0, 2))
    >>> DeepTrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    method: Method = "supervised"
    depth: int = 34
    activation: str = "gelu"
    width: float = 1.0
    stage_pool: int | None = None
    n_classes: int = 10
    projector: tuple[int, ...] = (128,)
    lambd: float = 0.005
    epochs: int = 500
    batch_size: int = 1024
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    checkpoints: tuple[int, ...] = field(default=(0, 50, 200, 500))
    seed: int = 0
    augment: bool = True

    def __post_init__(self) -> None:
        if self.method not in ("supervised", "barlow"):
            raise ParameterError(f"method={self.method!r}; use 'supervised' or 'barlow'.")
        if self.epochs < 0 or self.batch_size < 2:
            raise ParameterError(
                f"epochs={self.epochs} must be >= 0 and batch_size={self.batch_size} >= 2."
            )
        bad = [e for e in self.checkpoints if not 0 <= e <= self.epochs]
        if bad:
            raise ParameterError(f"checkpoints {bad} lie outside 0..epochs={self.epochs}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeepTrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ParameterError(f"unknown config keys {sorted(unknown)}; valid: {sorted(names)}.")
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kwargs)


def build_model(config: DeepTrainConfig) -> nn.Module:
    """The untrained model a config describes: a :class:`ResNet` or a :class:`BarlowTwins`."""
    n_classes = config.n_classes if config.method == "supervised" else None
    net = ResNet(
        config.depth,
        n_classes,
        activation=config.activation,
        width=config.width,
        stage_pool=config.stage_pool,
    )
    if config.method == "supervised":
        return net
    return BarlowTwins(net, config.projector, config.lambd)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA if available, else CPU; anything else as given."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (in eval mode), its config, epoch, data and history."""

    model: nn.Module
    config: DeepTrainConfig
    epoch: int
    data: dict[str, Any]
    history: list[dict[str, Any]]
    path: Path


def _save(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _data_record(data: ImageData) -> dict[str, Any]:
    return {"source": data.source, "split": data.split, "n": len(data), "info": data.info}


def load_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> Checkpoint:
    """Load a checkpoint written by :func:`train`.

    Parameters
    ----------
    path : path-like
        An ``epoch_XXXX.pt`` or ``latest.pt`` file.
    map_location : device, optional
        Where to put the tensors.

    Returns
    -------
    Checkpoint
    """
    raw = torch.load(Path(path), map_location=map_location, weights_only=True)
    if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
        raise NeurogeomError(f"{path} is not a neurogeom training checkpoint.")
    config = DeepTrainConfig.from_dict(raw["config"])
    model = build_model(config)
    model.load_state_dict(raw["model"])
    model.eval()
    return Checkpoint(model, config, int(raw["epoch"]), raw["data"], raw["history"], Path(path))


def _batches(n: int, size: int, generator: torch.Generator) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator)
    parts = list(order.split(size))
    return [p for p in parts if len(p) >= 2]  # batch norm needs two samples


def _step_loss(
    model: nn.Module,
    config: DeepTrainConfig,
    images: torch.Tensor,
    labels: torch.Tensor,
    generator: torch.Generator,
    device: torch.device,
) -> torch.Tensor:
    if config.method == "barlow":
        assert isinstance(model, BarlowTwins)
        v1, v2 = BarlowAugment()(images.to(device), generator=generator)
        return model.loss(normalize(v1), normalize(v2))
    x = random_crop_flip(images, generator=generator) if config.augment else images
    logits = model(normalize(x.to(device)))
    return nn.functional.cross_entropy(logits, labels.to(device))


def train(
    config: DeepTrainConfig,
    data: ImageData,
    out_dir: str | os.PathLike[str],
    *,
    device: str | torch.device = "auto",
    resume: bool = True,
    log: Callable[[str], None] | None = print,
    progress: bool | None = False,
) -> list[dict[str, Any]]:
    """Train a model, keeping checkpoints; resume a stopped run from ``latest.pt``.

    Parameters
    ----------
    config : DeepTrainConfig
    data : ImageData
        Training images in ``[0, 1]`` (normalised here after augmentation).
    out_dir : path-like
        Folder for ``config.json``, checkpoints and ``history.json``.
    device : str or torch.device
        ``"auto"`` uses CUDA when available.
    resume : bool
        Continue from ``out_dir/latest.pt`` if present (its config must equal ``config``);
        ``False`` refuses to overwrite an existing run.
    log : callable, optional
        Receives one line per epoch; ``None`` is silent.
    progress : bool or None
        Progress bar over epochs: True, False (default) or None (only when stderr is a
        terminal).

    Returns
    -------
    list of dict
        The history: ``epoch``, ``loss`` (mean over the epoch's batches), ``seconds``.

    Examples
    --------
    >>> import tempfile
    >>> from neurogeom.data.cifar import synthetic_cifar10
    >>> cfg = DeepTrainConfig(depth=18, width=1 / 16, epochs=1, batch_size=8, checkpoints=(0, 1))
    >>> hist = train(cfg, synthetic_cifar10(16), tempfile.mkdtemp(), device="cpu", log=None)
    >>> [h["epoch"] for h in hist]
    [1]
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    torch.manual_seed(config.seed)
    model = build_model(config).to(dev)
    opt = torch.optim.SGD(
        model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    gen = torch.Generator().manual_seed(config.seed + 1)
    history, start = _resume(out / "latest.pt", config, model, opt, gen, dev, resume)
    (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    saver = _Checkpoints(out, config, _data_record(data), opt, gen, history)
    callbacks: list[Callback] = [saver]
    if log is not None:
        callbacks.append(EpochLog(log, config.epochs))

    def loss(idx: torch.Tensor) -> torch.Tensor:
        return _step_loss(model, config, data.images[idx], data.labels[idx], gen, dev)

    training_loop(
        model,
        opt,
        loss,
        lambda: _batches(len(data), config.batch_size, gen),
        config.epochs,
        start=start,
        callbacks=callbacks,
        progress=progress,
        desc=f"{config.method} training",
    )
    return history


def _resume(
    latest: Path,
    config: DeepTrainConfig,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    device: torch.device,
    resume: bool,
) -> tuple[list[dict[str, Any]], int]:
    """Load ``latest.pt`` into the model, optimiser and generator; its history and epoch."""
    if not latest.exists():
        return [], 0
    if not resume:
        raise FileWriteError(
            f"{latest.parent} already holds a training run (latest.pt) and resume=False; "
            "pass resume=True to continue it, or a new folder."
        )
    raw = torch.load(latest, map_location=device, weights_only=True)
    if raw["config"] != config.to_dict():
        raise ParameterError(
            f"{latest} was trained with a different config:\n{raw['config']}\nnot\n"
            f"{config.to_dict()}\nUse a new out_dir or the same settings."
        )
    model.load_state_dict(raw["model"])
    opt.load_state_dict(raw["optimizer"])
    gen.set_state(raw["generator"].cpu())
    return list(raw["history"]), int(raw["epoch"])


class _Checkpoints(Callback):
    """Keeps ``epoch_XXXX.pt`` at the listed epochs, ``latest.pt`` and ``history.json``."""

    def __init__(
        self,
        out: Path,
        config: DeepTrainConfig,
        data: dict[str, Any],
        opt: torch.optim.Optimizer,
        gen: torch.Generator,
        history: list[dict[str, Any]],
    ) -> None:
        self.out, self.config, self.data = out, config, data
        self.opt, self.gen, self.history = opt, gen, history

    def _payload(self, model: nn.Module, epoch: int) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "config": self.config.to_dict(),
            "epoch": epoch,
            "model": model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "generator": self.gen.get_state(),
            "history": self.history,
            "data": self.data,
            **software_versions(),
        }

    def on_start(self, model: nn.Module, epoch: int) -> None:
        if epoch == 0 and 0 in self.config.checkpoints:
            _save(self.out / "epoch_0000.pt", self._payload(model, 0))

    def on_epoch_end(self, model: nn.Module, record: EpochRecord) -> None:
        self.history.append({"epoch": record.epoch, "loss": record.loss, "seconds": record.seconds})
        state = self._payload(model, record.epoch)
        if record.epoch in self.config.checkpoints:
            _save(self.out / f"epoch_{record.epoch:04d}.pt", state)
        _save(self.out / "latest.pt", state)
        (self.out / "history.json").write_text(json.dumps(self.history, indent=2))


@torch.no_grad()
def extract_features(
    model: nn.Module,
    images: torch.Tensor,
    *,
    batch_size: int = 512,
    device: str | torch.device = "auto",
) -> torch.Tensor:
    """Pooled backbone features ``(N, F)`` of normalised images ``(N, 3, H, W)``, eval mode.

    For a :class:`BarlowTwins` model its backbone is used; for a :class:`ResNet`, its
    :meth:`~neurogeom.models.ResNet.features`. The backbone is moved to ``device``; its
    training flags are restored afterwards. Features are returned on the CPU.
    """
    backbone = model.backbone if isinstance(model, BarlowTwins) else model
    if not isinstance(backbone, ResNet):
        raise InputTypeError(f"expected a ResNet or BarlowTwins; got {type(model).__name__}.")
    dev = resolve_device(device)
    flags = [m.training for m in backbone.modules()]
    backbone.eval().to(dev)
    try:
        parts = [backbone.features(b.to(dev)).cpu() for b in images.split(batch_size)]
    finally:
        for mod, flag in zip(backbone.modules(), flags, strict=True):
            mod.training = flag
    return torch.cat(parts)
