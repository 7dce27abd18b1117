"""Figs. 3–6: geometry of CIFAR ResNets and Barlow Twins across training checkpoints.

Four experiments share this module (``neurogeom run <name>``):

``cifar-plane`` (Fig. 3)
    A supervised ResNet on the plane through three normalised training images (horse,
    frog, car: classes 7, 6, 1): prediction, log10 entropy and log10 volume of the pooled
    features per checkpoint.
``cifar-stages`` (Fig. 4)
    The same plane, the volume element of all four stage outputs, each averaged down to a
    common width (``stage_pool``, the reference's 512 at full width); a ``layer`` dim.
``barlow-line`` / ``barlow-plane`` (Figs. 5–6)
    A Barlow Twins backbone on lines (car → dog, car → frog) and on the plane; predictions
    and entropy from a linear probe fitted to the backbone features at each checkpoint.

Two volume elements are stored side by side along the dimension ``space``: ``slice``, the
metric induced on the line or plane (1 or 2 Jacobian-vector products per point), and
``full``, the top-k log pseudo-determinant of the metric on the whole 3×32×32 image space
(k = the feature width by default, the rank of that metric), as the reference plotted.

The defaults are smoke-sized (ResNet-18 at 1/16 width, the synthetic stand-in, a few
epochs) so each command runs in about a minute on a CPU; the full-scale settings are in
``examples/configs/*_full.toml`` (GPU jobs). ``data`` and ``data_source`` in the Dataset's
``config`` say whether the images are CIFAR-10 or the synthetic stand-in.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn

from .._progress import progress
from ..data.cifar import ImageData, load_cifar10, normalize, synthetic_cifar10
from ..dataset import add_variables, register_variables, stack
from ..errors import ParameterError, SingularMetricError
from ..maps import TorchResponseMap
from ..measure import geometry
from ..models.barlow import BarlowTwins, LinearProbe
from ..models.resnet import ResNet, stage_widths
from ..slices import Line, Plane, Slice
from .claims import spearman
from .config import POSITIVE, RULES, one_of
from .figures import deep_title, training_figure
from .runner import Experiment, Setting, Trainer, run
from .train_deep import (
    Checkpoint,
    DeepTrainConfig,
    extract_features,
    load_checkpoint,
    resolve_device,
    train,
)

__all__ = [
    "BARLOW_LINE",
    "BARLOW_LINE_DEFAULTS",
    "BARLOW_PLANE",
    "BARLOW_PLANE_DEFAULTS",
    "CIFAR_PLANE",
    "CIFAR_PLANE_DEFAULTS",
    "CIFAR_STAGES",
    "CIFAR_STAGES_DEFAULTS",
    "note_undefined",
    "run_barlow_line",
    "run_barlow_plane",
    "run_cifar_plane",
    "run_cifar_stages",
    "train_checkpoints",
    "with_claim",
]

#: The Dataset variables only the deep experiments write.
register_variables(
    {
        "anchor_images": (
            ("anchor", "channel", "row", "column"),
            "anchor images for display: pixel values in [0, 1] before normalisation",
            "1",
        ),
    }
)

_COMMON: dict[str, Any] = {
    "data": "synthetic",
    "synthetic_n": 512,
    "max_samples": 0,
    "depth": 18,
    "activation": "gelu",
    "width": 0.0625,
    "epochs": 16,
    "checkpoints": [0, 4, 16],
    "batch_size": 128,
    "lr": 0.05,
    "momentum": 0.9,
    "weight_decay": 1e-4,
    "seed": 0,
    "device": "auto",
    "train_dir": "",
    "full_rank": 16,
    "spaces": ["slice", "full"],
    "dtype": "float64",
    "block_size": 64,
    "chunk_size": 4096,
    "progress": None,
}
#: Setting rules of the deep experiments: ``width`` is a multiplier here (> 0), not a count.
DEEP_RULES = {
    **RULES,
    "width": POSITIVE,
    "depth": one_of(18, 34),
    "activation": one_of("gelu", "relu"),
    "spaces": one_of("slice", "full"),
}
_PLANE: dict[str, Any] = {"classes": [7, 6, 1], "resolution": 10, "extent": 1.2}
_BARLOW: dict[str, Any] = {
    "projector": [128],
    "lambd": 0.005,
    "probe_C": 1.0,
    "probe_samples": 0,
}
#: Settings of ``neurogeom run cifar-plane`` (smoke size; see examples/configs/).
#: ``data``: ``"synthetic"`` (the labelled stand-in, ``synthetic_n`` images), ``"cifar10"``
#: (``$NEUROGEOM_CIFAR10``) or a folder with the CIFAR-10 batch files. ``train_dir``: keep
#: the checkpoints there (a stopped run resumes); empty = a temporary folder.
#: ``full_rank``: k of the full-space top-k pseudo-determinant; 0 = the measured width (the
#: rank of that metric, as the full-scale configs use). The smoke default is 16 of the 32
#: features: at 1/16 width a pooled unit can be nearly dead at a point (rank 31 of 32
#: measured at one plane point after 4 epochs of a smoke run); its full-rank volume is -inf.
CIFAR_PLANE_DEFAULTS: dict[str, Any] = {**_COMMON, **_PLANE}
#: Settings of ``neurogeom run cifar-stages``; ``stage_pool = 0``: the feature width.
#: (A coarser smoke grid than cifar-plane: four layers are measured in both spaces.)
CIFAR_STAGES_DEFAULTS: dict[str, Any] = {**_COMMON, **_PLANE, "resolution": 8, "stage_pool": 0}
#: Settings of ``neurogeom run barlow-line``: ``pairs`` of classes (car → dog, car → frog).
BARLOW_LINE_DEFAULTS: dict[str, Any] = {
    **_COMMON,
    **_BARLOW,
    "pairs": [[1, 5], [1, 6]],
    "steps": 24,
}
#: Settings of ``neurogeom run barlow-plane``.
BARLOW_PLANE_DEFAULTS: dict[str, Any] = {**_COMMON, **_BARLOW, **_PLANE}

_SPACE = "metric whose volume element is shown: induced on the slice, or the full image space"


# --- data ---------------------------------------------------------------------------------


def _load_data(cfg: dict[str, Any]) -> ImageData:
    source = str(cfg["data"])
    if source == "synthetic":
        data = synthetic_cifar10(int(cfg["synthetic_n"]), "train", seed=int(cfg["seed"]))
    else:
        data = load_cifar10(None if source == "cifar10" else source, "train")
    n = int(cfg["max_samples"])
    return data.subset(n) if 0 < n < len(data) else data


def _source_label(data: ImageData) -> str:
    if data.is_synthetic:
        return "synthetic stand-in (digits as 3x32x32 images), NOT CIFAR-10"
    return f"{data.source} ({data.split}, {len(data)} images)"


def _anchor_index(data: ImageData, classes: list[int]) -> list[int]:
    """Index of the first training image of each class."""
    labels = data.labels.numpy()
    out = []
    for c in classes:
        hits = np.flatnonzero(labels == c)
        if hits.size == 0:
            raise ParameterError(
                f"no image of class {c} in the {data.source} data; classes present: "
                f"{sorted(set(labels.tolist()))}."
            )
        out.append(int(hits[0]))
    return out


def _normalised(data: ImageData, index: list[int]) -> list[np.ndarray]:
    return [a.numpy() for a in normalize(data.images[index])]


# --- training -------------------------------------------------------------------------------


def _train_config(cfg: dict[str, Any], method: str) -> DeepTrainConfig:
    extra: dict[str, Any] = {}
    if method == "barlow":
        extra = {"projector": tuple(int(p) for p in cfg["projector"]), "lambd": float(cfg["lambd"])}
    return DeepTrainConfig(
        method=method,  # type: ignore[arg-type]
        depth=int(cfg["depth"]),
        activation=str(cfg["activation"]),
        width=float(cfg["width"]),
        epochs=int(cfg["epochs"]),
        batch_size=int(cfg["batch_size"]),
        lr=float(cfg["lr"]),
        momentum=float(cfg["momentum"]),
        weight_decay=float(cfg["weight_decay"]),
        checkpoints=tuple(sorted({int(e) for e in cfg["checkpoints"]})),
        seed=int(cfg["seed"]),
        **extra,
    )


def _checkpoints(
    cfg: dict[str, Any], method: str, data: ImageData
) -> tuple[list[Checkpoint], list[dict[str, Any]], str]:
    """Train (or resume) and load every checkpoint; returns them, the history, the folder."""
    config = _train_config(cfg, method)
    keep = str(cfg["train_dir"])
    if keep:
        folder = Path(keep).expanduser().resolve()
        return (*_train_and_load(config, data, folder, cfg), str(folder))
    with tempfile.TemporaryDirectory(prefix="neurogeom-") as tmp:
        return (*_train_and_load(config, data, Path(tmp), cfg), "")


def _train_and_load(
    config: DeepTrainConfig, data: ImageData, folder: Path, cfg: dict[str, Any]
) -> tuple[list[Checkpoint], list[dict[str, Any]]]:
    history = train(
        config, data, folder, device=str(cfg["device"]), log=None, progress=cfg["progress"]
    )
    return [load_checkpoint(folder / f"epoch_{e:04d}.pt") for e in config.checkpoints], history


def _frozen(model: nn.Module) -> nn.Module:
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _with_stage_pool(net: ResNet, dim: int) -> ResNet:
    """The same network with the parameter-free ``pooled1`` … ``pooled4`` side branches."""
    pooled = ResNet(
        net.depth, net.n_classes, activation=net.activation, width=net.width, stage_pool=dim
    )
    pooled.load_state_dict(net.state_dict())
    _frozen(pooled)
    return pooled


# --- measuring ------------------------------------------------------------------------------


def _both_spaces(
    rm: TorchResponseMap,
    where: Slice,
    rank: int,
    classifier: Callable[[Any], Any],
    cfg: dict[str, Any],
) -> xr.Dataset:
    """Volume elements in the configured ``spaces`` along ``space``, plus the classifier's."""
    spaces = _spaces(cfg)
    block = int(cfg["block_size"])
    sliced = geometry(
        rm, where, space="slice", classifier=classifier, block_size=block, progress=False
    )
    keys = ["log_volume_element", "metric_rank"]
    parts = [sliced[keys]]
    if "full" in spaces:
        try:
            full = geometry(
                rm,
                where,
                space="full",
                rank=rank,
                keep_metric=False,
                block_size=block,
                progress=False,
            )
        except SingularMetricError as err:
            raise SingularMetricError(
                f"the full-space metric is numerically rank-deficient: {err} In a config file, "
                f"set full_rank to a smaller k (now {rank}) for the top-k pseudo-determinant."
            ) from err
        parts.append(full[keys])
    both = stack(parts, "space", spaces, long_name=_SPACE)
    k = 0 if where.tangents is None else where.tangents.shape[0]
    both["log_volume_element"].attrs["space"] = "see the space coordinate"
    described = [f"slice: induced on the {where.kind} ({k} tangents)"]
    if "full" in spaces:
        d = int(np.prod(where.stimulus_shape))
        described.append(f"full: top-{rank} log pseudo-determinant of the {d}-d metric")
    both["log_volume_element"].attrs["description"] = "; ".join(described)
    ds = sliced.drop_vars([*keys, "eigenvalues"]).assign(both[keys])
    return with_claim(ds)


def _validate(cfg: dict[str, Any]) -> None:
    """Check the settings that are used only after training, before training starts."""
    _spaces(cfg)
    if cfg["dtype"] not in _DTYPES:
        raise ParameterError(f"dtype={cfg['dtype']!r}; use one of {sorted(_DTYPES)}.")


def _spaces(cfg: dict[str, Any]) -> list[str]:
    spaces = [str(s) for s in cfg["spaces"]]
    if spaces not in (["slice"], ["slice", "full"]):
        raise ParameterError(
            f"spaces={cfg['spaces']!r}; use ['slice', 'full'] (both volume elements) or "
            "['slice'] (the plane- or line-induced metric only, much cheaper)."
        )
    return spaces


def with_claim(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with ``spearman_entropy`` per space (and layer) over the slice's points.

    Where a field is constant over the slice the rank correlation is undefined: the value
    is NaN (a long GPU run is not lost to it) and :func:`note_undefined` says so in the
    variable's attrs.

    Parameters
    ----------
    ds : xarray.Dataset
        ``log_volume_element`` and ``entropy`` on the slice's points; other dims of the
        volume element (space, layer) get one correlation each.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> ds = xr.Dataset({"log_volume_element": ("t", [0.0, 1.0, 2.0]),
    ...                  "entropy": ("t", [0.3, 0.2, 0.1])})
    >>> float(with_claim(ds).spearman_entropy)
    -1.0
    """
    point_dims = [str(d) for d in ds["entropy"].dims]
    lv = ds["log_volume_element"]
    rest = [str(d) for d in lv.dims if d not in point_dims]
    flat = lv.stack(_cell=rest) if rest else lv.expand_dims(_cell=[0])
    rho = []
    for i in range(flat.sizes["_cell"]):
        try:
            r = spearman(flat.isel(_cell=i).transpose(*point_dims).values, ds["entropy"].values)
        except ValueError:  # a constant field; noted by note_undefined after stacking
            r = float("nan")
        rho.append(r)
    if rest:
        shape = [lv.sizes[d] for d in rest]
        return add_variables(ds, {"spearman_entropy": (tuple(rest), np.reshape(rho, shape))})
    return add_variables(ds, {"spearman_entropy": ((), rho[0])})


_UNDEFINED = (
    "NaN where the log volume element or the entropy is constant over the slice "
    "(a rank correlation is undefined there)"
)


def note_undefined(ds: xr.Dataset) -> xr.Dataset:
    """Say in the attrs why ``spearman_entropy`` is NaN, where it is.

    Parameters
    ----------
    ds : xarray.Dataset
        With ``spearman_entropy`` (from :func:`with_claim`, stacked over epochs).

    Returns
    -------
    xarray.Dataset
        ``ds``, or a copy whose ``spearman_entropy`` has an ``undefined`` attribute.

    Examples
    --------
    >>> ds = xr.Dataset({"spearman_entropy": ("epoch", [0.5, np.nan])})
    >>> note_undefined(ds).spearman_entropy.attrs["undefined"][:8]
    'NaN wher'
    """
    if bool(np.isnan(ds["spearman_entropy"].values).any()):
        ds = ds.copy()
        ds["spearman_entropy"].attrs["undefined"] = _UNDEFINED
    return ds


def _accuracy(
    classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device
) -> float:
    with torch.no_grad():
        batches = normalize(images).split(512)
        pred = torch.cat([classifier(b.to(device)).argmax(1).cpu() for b in batches])
    return float((pred == labels).double().mean())


_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _device(cfg: dict[str, Any]) -> torch.device:
    return resolve_device(str(cfg["device"]))


def _map(cfg: dict[str, Any], model: nn.Module, layers: str | list[str]) -> TorchResponseMap:
    """The measured map, in the configured dtype on the configured device."""
    if cfg["dtype"] not in _DTYPES:
        raise ParameterError(f"dtype={cfg['dtype']!r}; use one of {sorted(_DTYPES)}.")
    return TorchResponseMap(
        model,
        layers,
        dtype=_DTYPES[cfg["dtype"]],
        device=_device(cfg),
        chunk_size=int(cfg["chunk_size"]),
    )


def _rank(cfg: dict[str, Any], feature_dim: int) -> int:
    return int(cfg["full_rank"]) or feature_dim


def _supervised_measure(
    cfg: dict[str, Any], where: Slice, data: ImageData, stages: bool
) -> Callable[[Checkpoint], xr.Dataset]:
    def measure(ckpt: Checkpoint) -> xr.Dataset:
        net = _frozen(ckpt.model).to(_device(cfg))
        assert isinstance(net, ResNet)
        if stages:
            dim = int(cfg["stage_pool"]) or net.feature_dim
            pooled = _with_stage_pool(net, dim)
            rm = _map(cfg, pooled, pooled.pooled_layers)
            rank = _rank(cfg, dim)
        else:
            rm = _map(cfg, net, net.feature_layer)
            rank = _rank(cfg, net.feature_dim)
        ds = _both_spaces(rm, where, rank, net, cfg)
        return add_variables(
            ds, {"accuracy": ((), _accuracy(net, data.images, data.labels, _device(cfg)))}
        )

    return measure


def _probe_classifier(
    model: BarlowTwins, data: ImageData, cfg: dict[str, Any]
) -> tuple[nn.Module, float]:
    """``nn.Sequential(backbone, probe.head())`` and the probe's training accuracy."""
    n = int(cfg["probe_samples"])
    images, labels = (data.images[:n], data.labels[:n]) if n > 0 else (data.images, data.labels)
    device = _device(cfg)
    features = extract_features(model, normalize(images), device=device)
    probe = LinearProbe(C=float(cfg["probe_C"])).fit(features, labels.numpy())
    n_classes = len(data.classes)
    if not np.array_equal(probe.classes_, np.arange(n_classes)):
        raise ParameterError(
            f"the probe's training images hold classes {probe.classes_.tolist()}, not all "
            f"{n_classes}; raise probe_samples or synthetic_n so every class appears."
        )
    classifier = _frozen(nn.Sequential(model.backbone, probe.head().to(device)))
    accuracy = float((probe.predict(features) == labels.numpy()).mean())
    return classifier, accuracy


_PROBE_ACCURACY = {"long_name": "training accuracy of the linear probe on backbone features"}


def _barlow_measure(
    cfg: dict[str, Any], slices: list[Slice], labels: list[str] | None, data: ImageData
) -> Callable[[Checkpoint], xr.Dataset]:
    def measure(ckpt: Checkpoint) -> xr.Dataset:
        model = _frozen(ckpt.model).to(_device(cfg))
        assert isinstance(model, BarlowTwins)
        classifier, acc = _probe_classifier(model, data, cfg)
        backbone = model.backbone
        rm = _map(cfg, backbone, backbone.feature_layer)
        rank = _rank(cfg, backbone.feature_dim)
        parts = [_both_spaces(rm, s, rank, classifier, cfg) for s in slices]
        if labels is None:
            ds = parts[0]
        else:
            ds = stack(parts, "pair", labels, long_name="interpolated pair", shared=())
        ds = add_variables(ds, {"accuracy": ((), acc)}, attrs={"accuracy": _PROBE_ACCURACY})
        for name in ("prediction", "entropy", "probability"):
            ds[name].attrs["classifier"] = "linear probe on the backbone features"
        ds["prediction"].attrs["long_name"] = "predicted class (linear probe)"
        return ds

    return measure


# --- assembling -----------------------------------------------------------------------------


def train_checkpoints(method: str, loss_name: str) -> Trainer:
    """The deep experiments' trainer: train (or resume) to checkpoints, then measure each.

    Parameters
    ----------
    method : {"supervised", "barlow"}
    loss_name : str
        ``long_name`` of the recorded ``loss``.

    Returns
    -------
    callable
        A :data:`~.runner.Trainer` that records ``train_dir`` (the kept folder, or "").
    """

    def trainer(
        experiment: Experiment, cfg: dict[str, Any], setting: Setting, cell: dict[str, Any]
    ) -> tuple[xr.Dataset, dict[str, Any]]:
        ckpts, history, kept = _checkpoints(cfg, method, setting.training)
        enabled = cfg["progress"]
        parts = [
            setting.measure(c)
            for c in progress(ckpts, desc=f"{experiment.name}: measure", enabled=enabled)
        ]
        epochs = [c.epoch for c in ckpts]
        ds = stack(parts, "epoch", epochs, long_name="training epoch of the checkpoint")
        losses = np.asarray([h["loss"] for h in history], dtype=np.float64)
        coord = np.asarray([h["epoch"] for h in history], dtype=np.int64)
        ds = add_variables(
            ds,
            {"loss": (("train_epoch",), losses)},
            coords={"train_epoch": (("train_epoch",), coord, {"long_name": "training epoch"})},
            attrs={"loss": {"long_name": loss_name}},
        )
        return ds, {"train_dir": kept}

    return trainer


def _display_images(data: ImageData, index: list[int]) -> np.ndarray:
    """Anchor images in ``[0, 1]`` before normalisation, ``(anchor, 3, H, W)`` float32."""
    return data.images[index].numpy().astype(np.float32)


def _data_settings(data: ImageData) -> dict[str, Any]:
    return {
        "data_source": data.source,
        "data_info": data.info,
        "n_train": len(data),
        "class_names": list(data.classes),
    }


def _model_label(cfg: dict[str, Any], what: str) -> str:
    return f"{what} ResNet-{cfg['depth']} ({cfg['activation']}, width x{float(cfg['width']):g})"


def _feature_width(cfg: dict[str, Any]) -> int:
    """The pooled feature width of the configured network."""
    return stage_widths(float(cfg["width"]))[-1]


def _plane(cfg: dict[str, Any], data: ImageData) -> tuple[Plane, list[int]]:
    classes = [int(c) for c in cfg["classes"]]
    if len(classes) != 3:
        raise ParameterError(f"classes={classes}; a plane needs three classes.")
    index = _anchor_index(data, classes)
    a, b, c = _normalised(data, index)
    where = Plane(a, b, c, resolution=int(cfg["resolution"]), extent=float(cfg["extent"]))
    return where, index


_ANCHOR_DIMS = ("anchor", "channel", "row", "column")


def _supervised_setting(cfg: dict[str, Any], stages: bool) -> Setting:
    """The plane through three training images, measured on the pooled features or stages."""
    _validate(cfg)
    images = _load_data(cfg)
    where, index = _plane(cfg, images)
    width = _feature_width(cfg)
    measured = (int(cfg["stage_pool"]) or width) if stages else width
    recorded: dict[str, Any] = {
        **_data_settings(images),
        "anchor_labels": [int(c) for c in cfg["classes"]],
        "anchor_classes": [images.classes[int(c)] for c in cfg["classes"]],
        "anchor_indices": index,
        "feature_width": width,
        "full_rank": _rank(cfg, measured),
    }
    if stages:
        recorded["stage_pool"] = measured
    return Setting(
        measure=_supervised_measure(cfg, where, images, stages),
        training=images,
        variables={"anchor_images": (_ANCHOR_DIMS, _display_images(images, index))},
        attrs={"data_source": _source_label(images), "model": _model_label(cfg, "supervised")},
        settings=recorded,
    )


def _barlow_setting(
    cfg: dict[str, Any], slices: list[Slice], labels: list[str] | None, images: ImageData
) -> Setting:
    width = _feature_width(cfg)
    return Setting(
        measure=_barlow_measure(cfg, slices, labels, images),
        training=images,
        attrs={
            "data_source": _source_label(images),
            "model": _model_label(cfg, "Barlow Twins") + " + linear probe",
        },
        settings={**_data_settings(images), "feature_width": width, "full_rank": _rank(cfg, width)},
    )


def _barlow_line_setting(cfg: dict[str, Any]) -> Setting:
    """Lines between the first training images of each pair of classes."""
    _validate(cfg)
    images = _load_data(cfg)
    pairs = [[int(c) for c in p] for p in cfg["pairs"]]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ParameterError(f"pairs={cfg['pairs']}; give pairs of two classes like [[1, 5]].")
    index = [_anchor_index(images, p) for p in pairs]
    ends = [_normalised(images, i) for i in index]
    lines: list[Slice] = [Line(a, b, steps=int(cfg["steps"])) for a, b in ends]
    labels = [f"{images.classes[a]} -> {images.classes[b]}" for a, b in pairs]
    setting = _barlow_setting(cfg, lines, labels, images)
    display = np.stack([_display_images(images, i) for i in index])
    setting.variables["anchor_images"] = (("pair", *_ANCHOR_DIMS), display)
    setting.settings["anchor_indices"] = index
    return setting


def _barlow_plane_setting(cfg: dict[str, Any]) -> Setting:
    """The plane through the first training images of three classes."""
    _validate(cfg)
    images = _load_data(cfg)
    plane, index = _plane(cfg, images)
    setting = _barlow_setting(cfg, [plane], None, images)
    setting.variables["anchor_images"] = (_ANCHOR_DIMS, _display_images(images, index))
    setting.settings["anchor_indices"] = index
    setting.settings["anchor_classes"] = [images.classes[int(c)] for c in cfg["classes"]]
    return setting


# --- figures --------------------------------------------------------------------------------


def _training(ds: xr.Dataset) -> Any:
    return training_figure(ds, deep_title(ds))


def _cifar_plane_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import checkpoint_plane_panels

    return {"fig3_plane": checkpoint_plane_panels(ds), "training": _training(ds)}


def _cifar_stages_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import stage_panels

    figures = {"fig4_stages": stage_panels(ds, space="slice")}
    if "full" in ds["space"].values:
        figures["fig4_stages_full"] = stage_panels(ds, space="full")
    return {**figures, "training": _training(ds)}


def _barlow_line_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import interpolation_panels

    return {"fig5_lines": interpolation_panels(ds), "training": _training(ds)}


def _barlow_plane_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import checkpoint_plane_panels

    return {"fig6_plane": checkpoint_plane_panels(ds), "training": _training(ds)}


# --- the experiments ------------------------------------------------------------------------

_SUPERVISED = train_checkpoints("supervised", "mean training cross-entropy of the epoch")
_BARLOW_TRAINING = train_checkpoints("barlow", "mean Barlow Twins loss of the epoch")

#: Fig. 3: a supervised ResNet, its pooled features on a plane of three images, per checkpoint.
CIFAR_PLANE = Experiment(
    name="cifar-plane",
    summary="Fig. 3: supervised CIFAR ResNet, plane through a horse, a frog and a car, per checkpoint",
    defaults=CIFAR_PLANE_DEFAULTS,
    setting=lambda cfg, data: _supervised_setting(cfg, stages=False),
    train=_SUPERVISED,
    figures=_cifar_plane_figures,
    rows=("epoch", "space"),
    rules=DEEP_RULES,
    finish=note_undefined,
)
#: Fig. 4: the same plane, each of the four stage outputs pooled to a common width.
CIFAR_STAGES = Experiment(
    name="cifar-stages",
    summary="Fig. 4: the same plane, volume element of the 4 pooled stage outputs per checkpoint",
    defaults=CIFAR_STAGES_DEFAULTS,
    setting=lambda cfg, data: _supervised_setting(cfg, stages=True),
    train=_SUPERVISED,
    figures=_cifar_stages_figures,
    rows=("layer", "epoch", "space"),
    rules=DEEP_RULES,
    finish=note_undefined,
)
#: Fig. 5: a Barlow Twins backbone along lines between pairs of images, linear-probe classes.
BARLOW_LINE = Experiment(
    name="barlow-line",
    summary="Fig. 5: Barlow Twins backbone along car -> dog and car -> frog, linear-probe classes",
    defaults=BARLOW_LINE_DEFAULTS,
    setting=lambda cfg, data: _barlow_line_setting(cfg),
    train=_BARLOW_TRAINING,
    figures=_barlow_line_figures,
    rows=("pair", "epoch", "space"),
    rules=DEEP_RULES,
    finish=note_undefined,
)
#: Fig. 6: the Barlow Twins backbone on the plane through three images.
BARLOW_PLANE = Experiment(
    name="barlow-plane",
    summary="Fig. 6: Barlow Twins backbone on the plane through three images, per checkpoint",
    defaults=BARLOW_PLANE_DEFAULTS,
    setting=lambda cfg, data: _barlow_plane_setting(cfg),
    train=_BARLOW_TRAINING,
    figures=_barlow_plane_figures,
    rows=("epoch", "space"),
    rules=DEEP_RULES,
    finish=note_undefined,
)


def run_cifar_plane(
    config: dict[str, Any] | None = None, *, data: str | Path | None = None
) -> xr.Dataset:
    """Fig. 3: a supervised ResNet on the plane through three training images, per checkpoint.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`CIFAR_PLANE_DEFAULTS`; unknown keys raise.
    data : str or path, optional
        ``"synthetic"``, ``"cifar10"`` (``$NEUROGEOM_CIFAR10``) or a CIFAR-10 folder;
        overrides the ``data`` setting.

    Returns
    -------
    xarray.Dataset
        Dims ``epoch``, ``space`` (``slice``/``full``), ``u``, ``v``; variables
        ``log_volume_element`` (of the pooled features), ``metric_rank``, ``prediction``,
        ``entropy``, ``probability``, ``spearman_entropy``, ``accuracy``, ``loss``,
        ``anchors`` (normalised), ``anchor_images`` (for display); ``attrs["config"]``,
        ``attrs["data_source"]``.

    Examples
    --------
    >>> ds = run_cifar_plane({"synthetic_n": 64, "width": 0.03125, "epochs": 1,
    ...     "checkpoints": [0, 1], "batch_size": 32, "resolution": 3, "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'epoch': 2, 'space': 2, 'u': 3, 'v': 3}
    """
    return run(CIFAR_PLANE, config, data=data)


def run_cifar_stages(
    config: dict[str, Any] | None = None, *, data: str | Path | None = None
) -> xr.Dataset:
    """Fig. 4: volume element of the four (pooled) stage outputs on the plane, per checkpoint.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`CIFAR_STAGES_DEFAULTS`; unknown keys raise.
    data : str or path, optional
        As for :func:`run_cifar_plane`.

    Returns
    -------
    xarray.Dataset
        As :func:`run_cifar_plane` with a ``layer`` dim (``pooled1`` … ``pooled4``).

    Examples
    --------
    >>> ds = run_cifar_stages({"synthetic_n": 64, "width": 0.03125, "epochs": 1,
    ...     "checkpoints": [1], "batch_size": 32, "resolution": 3, "full_rank": 8,
    ...     "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'epoch': 1, 'space': 2, 'layer': 4, 'u': 3, 'v': 3}
    """
    return run(CIFAR_STAGES, config, data=data)


def run_barlow_line(
    config: dict[str, Any] | None = None, *, data: str | Path | None = None
) -> xr.Dataset:
    """Fig. 5: Barlow Twins backbone along interpolations between two images per pair.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`BARLOW_LINE_DEFAULTS`; unknown keys raise.
    data : str or path, optional
        As for :func:`run_cifar_plane`.

    Returns
    -------
    xarray.Dataset
        Dims ``epoch``, ``pair``, ``space``, ``t``; predictions and entropy from the linear
        probe of each checkpoint; ``accuracy`` is the probe's training accuracy.

    Examples
    --------
    >>> ds = run_barlow_line({"synthetic_n": 64, "width": 0.03125, "epochs": 1,
    ...     "checkpoints": [1], "batch_size": 32, "steps": 4, "full_rank": 8, "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'epoch': 1, 'pair': 2, 'space': 2, 't': 4}
    """
    return run(BARLOW_LINE, config, data=data)


def run_barlow_plane(
    config: dict[str, Any] | None = None, *, data: str | Path | None = None
) -> xr.Dataset:
    """Fig. 6: Barlow Twins backbone on the plane through three images, per checkpoint.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`BARLOW_PLANE_DEFAULTS`; unknown keys raise.
    data : str or path, optional
        As for :func:`run_cifar_plane`.

    Returns
    -------
    xarray.Dataset
        As :func:`run_cifar_plane`, with the linear probe's predictions and entropy.

    Examples
    --------
    >>> ds = run_barlow_plane({"synthetic_n": 64, "width": 0.03125, "epochs": 1,
    ...     "checkpoints": [1], "batch_size": 32, "resolution": 3, "full_rank": 8,
    ...     "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'epoch': 1, 'space': 2, 'u': 3, 'v': 3}
    """
    return run(BARLOW_PLANE, config, data=data)
