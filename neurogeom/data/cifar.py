"""CIFAR-10 from the "python version" batch files, and a labelled synthetic stand-in.

Put the extracted ``cifar-10-batches-py`` folder (``data_batch_1`` … ``data_batch_5``,
``test_batch``, ``batches.meta``) anywhere and pass its path (or the folder above it) as
``root``, or set the environment variable ``NEUROGEOM_CIFAR10``. Nothing is downloaded
unless ``download=True`` is passed and torchvision is installed.

Machines without the data set can use :func:`synthetic_cifar10`: 3×32×32 images built from
scikit-learn's bundled 8×8 digits. Its :attr:`ImageData.source` is ``"synthetic"`` so
nothing computed from it can be mistaken for CIFAR-10.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import DataFormatError, DataNotFoundError, ParameterError, VariableError

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "ENV_VAR",
    "ImageData",
    "denormalize",
    "find_cifar10",
    "load_cifar10",
    "normalize",
    "read_batch",
    "synthetic_cifar10",
]

#: Environment variable naming the CIFAR-10 folder.
ENV_VAR = "NEUROGEOM_CIFAR10"
#: Per-channel mean and standard deviation used to normalise CIFAR-10 images.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2023, 0.1994, 0.2010)
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
_FOLDER = "cifar-10-batches-py"
_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_FILES = ("test_batch",)
_PIXELS = 3 * 32 * 32

Split = Literal["train", "test"]


@dataclass(frozen=True)
class ImageData:
    """A labelled image set.

    Attributes
    ----------
    images : Tensor, shape (N, 3, 32, 32), float32
        Pixel values in ``[0, 1]`` (not normalised; see :func:`normalize`).
    labels : Tensor, shape (N,), int64
    classes : tuple of str
        Class names, indexed by label.
    source : str
        ``"cifar10"`` for the real files, ``"synthetic"`` for the stand-in.
    split : {"train", "test"}
    info : dict
        Where the data came from (path, generator settings), JSON-able.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    source: str
    split: str
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def is_synthetic(self) -> bool:
        """Whether this is a stand-in rather than a real data set."""
        return self.source == "synthetic"

    def subset(self, n: int) -> ImageData:
        """The first ``n`` images (for smoke-sized runs)."""
        info = {**self.info, "subset": int(n)}
        return ImageData(
            self.images[:n], self.labels[:n], self.classes, self.source, self.split, info
        )


def _stats(x: torch.Tensor, values: tuple[float, float, float]) -> torch.Tensor:
    return torch.tensor(values, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """``(x − mean) / std`` per channel with the CIFAR-10 statistics; images ``(m, 3, H, W)``.

    Examples
    --------
    >>> x = torch.rand(2, 3, 4, 4)
    >>> bool(torch.allclose(denormalize(normalize(x)), x, atol=1e-6))
    True
    """
    return (images - _stats(images, CIFAR10_MEAN)) / _stats(images, CIFAR10_STD)


def denormalize(images: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`normalize`."""
    return images * _stats(images, CIFAR10_STD) + _stats(images, CIFAR10_MEAN)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays (what the CIFAR files contain)."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("_codecs", "encode"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            # files written under NumPy 1 name numpy.core, a deprecated alias in NumPy 2
            if module.startswith("numpy.core.") and hasattr(np, "_core"):
                module = "numpy._core." + module.removeprefix("numpy.core.")
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _key(d: dict[Any, Any], name: str) -> Any:
    for k in (name.encode(), name):
        if k in d:
            return d[k]
    raise VariableError(name)


def _unpickle(path: Path) -> dict[Any, Any]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataNotFoundError(f"cannot read {path}: {e}.") from e
    try:
        obj = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as e:
        raise DataFormatError(
            f"{path} is not a readable CIFAR-10 python batch file ({type(e).__name__}: {e}); "
            "it may be truncated or corrupt. Re-extract cifar-10-python.tar.gz."
        ) from e
    if not isinstance(obj, dict):
        raise DataFormatError(f"{path} holds a {type(obj).__name__}, expected a pickled dict.")
    return obj


def read_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch file.

    Parameters
    ----------
    path : path-like
        A file such as ``data_batch_1``: a pickled dict with ``b"data"``, uint8 of shape
        ``(N, 3072)`` (channel-major rows of 32×32 pixels), and ``b"labels"``, N ints 0–9.

    Returns
    -------
    images : ndarray, shape (N, 3, 32, 32), uint8
    labels : ndarray, shape (N,), int64

    Raises
    ------
    DataNotFoundError
        If the file cannot be read.
    DataFormatError
        If it is not a pickled dict of that form (truncated, corrupt or another file).

    Examples
    --------
    >>> import pickle, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "data_batch_1"
    >>> batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 5]}
    >>> f.write_bytes(pickle.dumps(batch)) and None
    >>> images, labels = read_batch(f)
    >>> images.shape, labels.tolist()
    ((2, 3, 32, 32), [3, 5])
    """
    path = Path(path)
    d = _unpickle(path)
    try:
        data, labels = np.asarray(_key(d, "data")), np.asarray(_key(d, "labels"))
    except KeyError as e:
        raise DataFormatError(f"{path} has no {e.args[0]!r} entry; keys are {list(d)}.") from e
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        raise DataFormatError(
            f"{path}: data has dtype {data.dtype} and shape {data.shape}; expected uint8 "
            f"(N, {_PIXELS})."
        )
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise DataFormatError(
            f"{path}: {labels.shape[0] if labels.ndim else 0} labels for {data.shape[0]} images."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(f"{path}: labels outside 0..9 ({labels.min()}..{labels.max()}).")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def find_cifar10(root: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding the batch files: ``root`` (or ``$NEUROGEOM_CIFAR10``) itself or its
    ``cifar-10-batches-py`` subfolder; ``None`` if neither holds ``test_batch``."""
    base = root if root is not None else os.environ.get(ENV_VAR)
    if not base:
        return None
    for folder in (Path(base), Path(base) / _FOLDER):
        if (folder / "test_batch").is_file() or (folder / "data_batch_1").is_file():
            return folder
    return None


def _read_classes(folder: Path) -> tuple[str, ...]:
    meta = folder / "batches.meta"
    if not meta.is_file():
        return CIFAR10_CLASSES
    d = _unpickle(meta)
    try:
        names = _key(d, "label_names")
    except KeyError as e:
        raise DataFormatError(f"{meta} has no 'label_names' entry.") from e
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _from_files(folder: Path, split: Split) -> ImageData:
    names = _TRAIN_FILES if split == "train" else _TEST_FILES
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{folder} lacks {', '.join(missing)}; the {split} split needs "
            f"{', '.join(names)}. Re-extract cifar-10-python.tar.gz there."
        )
    parts = [read_batch(folder / n) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return ImageData(
        torch.from_numpy(images).float() / 255.0,
        torch.from_numpy(labels),
        _read_classes(folder),
        "cifar10",
        split,
        {"path": str(folder), "files": list(names), "reader": "neurogeom"},
    )


def _from_torchvision(root: str, split: Split, download: bool) -> ImageData:
    from torchvision.datasets import CIFAR10  # optional dependency

    ds = CIFAR10(root, train=split == "train", download=download)
    images = torch.from_numpy(np.asarray(ds.data)).permute(0, 3, 1, 2).float() / 255.0
    return ImageData(
        images.contiguous(),
        torch.as_tensor(ds.targets, dtype=torch.int64),
        tuple(ds.classes),
        "cifar10",
        split,
        {"path": str(root), "reader": "torchvision"},
    )


def load_cifar10(
    root: str | os.PathLike[str] | None = None,
    split: Split = "train",
    *,
    download: bool = False,
) -> ImageData:
    """Load CIFAR-10 from the python batch files.

    Parameters
    ----------
    root : path-like, optional
        Folder with the batch files or with ``cifar-10-batches-py`` inside; default the
        environment variable ``NEUROGEOM_CIFAR10``.
    split : {"train", "test"}
        50 000 training or 10 000 test images.
    download : bool
        If the files are not found and torchvision is installed, let torchvision download
        them into ``root`` (needs internet).

    Returns
    -------
    ImageData
        Images in ``[0, 1]``, ``source="cifar10"``.

    Raises
    ------
    DataNotFoundError
        If no files are found (and torchvision cannot provide them).
    DataFormatError
        If a file is truncated or corrupt.

    Examples
    --------
    >>> load_cifar10("/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurogeom.errors.DataNotFoundError: no CIFAR-10 batch files under '/nonexistent'...
    """
    if split not in ("train", "test"):
        raise ParameterError(f"split={split!r}; use 'train' or 'test'.")
    folder = find_cifar10(root)
    if folder is not None:
        return _from_files(folder, split)
    where = root if root is not None else os.environ.get(ENV_VAR)
    if where is not None:
        try:
            return _from_torchvision(str(where), split, download)
        except ImportError:
            pass
        except RuntimeError as e:  # torchvision: "Dataset not found or corrupted"
            if download:
                raise DataNotFoundError(f"torchvision could not provide CIFAR-10: {e}") from e
    raise DataNotFoundError(
        f"no CIFAR-10 batch files under {str(where)!r}. Extract cifar-10-python.tar.gz "
        f"(the 'python version') and pass its folder as root or set ${ENV_VAR}; without the "
        "data set use neurogeom.data.synthetic_cifar10() (a labelled stand-in)."
    )


def synthetic_cifar10(
    n: int = 1000, split: Split = "train", *, seed: int = 0, noise: float = 0.05
) -> ImageData:
    """A labelled stand-in for CIFAR-10: scikit-learn's 8×8 digits as 3×32×32 colour images.

    Each digit is upsampled bilinearly to 32×32, drawn in a class-specific colour on a
    class-specific background, and perturbed by Gaussian pixel noise; values are clipped to
    ``[0, 1]``. Ten classes, ``"digit 0"`` … ``"digit 9"``. The 1797 digits are split
    1437/360 into train and test; images are drawn from the split with replacement, each
    with its own noise, so any ``n`` is possible. The result has ``source="synthetic"``.

    Parameters
    ----------
    n : int
        Number of images.
    split : {"train", "test"}
    seed : int
        Seed for the choice of digits and the noise.
    noise : float
        Standard deviation of the pixel noise.

    Returns
    -------
    ImageData

    Examples
    --------
    >>> data = synthetic_cifar10(8)
    >>> data.images.shape, data.source, data.classes[3]
    (torch.Size([8, 3, 32, 32]), 'synthetic', 'digit 3')
    """
    from sklearn.datasets import load_digits

    if n < 1:
        raise ParameterError(f"n={n} must be positive.")
    if split not in ("train", "test"):
        raise ParameterError(f"split={split!r}; use 'train' or 'test'.")
    digits = load_digits()
    X = torch.as_tensor(digits.images / 16.0, dtype=torch.float32)
    y = torch.as_tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(1234))
    cut = int(0.8 * len(y))
    pool = order[:cut] if split == "train" else order[cut:]
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 10_000))
    pick = pool[torch.randint(len(pool), (n,), generator=g)]
    shapes = F.interpolate(
        X[pick].unsqueeze(1), size=(32, 32), mode="bilinear", align_corners=False
    )
    palette = torch.Generator().manual_seed(99)
    ink = 0.35 + 0.65 * torch.rand(10, 3, generator=palette)
    paper = 0.5 * torch.rand(10, 3, generator=palette)
    labels = y[pick]
    fg, bg = ink[labels].view(n, 3, 1, 1), paper[labels].view(n, 3, 1, 1)
    images = bg + (fg - bg) * shapes + noise * torch.randn(n, 3, 32, 32, generator=g)
    info = {
        "generator": "sklearn digits upsampled to 3x32x32",
        "n": n,
        "seed": seed,
        "noise": noise,
    }
    return ImageData(
        images.clamp(0, 1), labels, tuple(f"digit {i}" for i in range(10)), "synthetic", split, info
    )
