"""MNIST from its IDX files, and scikit-learn's bundled 8×8 digits as the offline stand-in.

Both loaders return an :class:`~neurogeom.data.cifar.ImageData` (the package's one labelled
image container): images ``(N, 1, H, W)`` scaled to ``[0, 1]`` (float64), integer labels,
and ``source``/``info`` that say where they came from, so an experiment can record it. Real MNIST is read from a directory the user gives (argument, or the environment
variable ``NEUROGEOM_MNIST``) that holds the four original files, gzipped or not::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

torchvision is used when it is installed and the directory has its layout
(``<root>/MNIST/raw``); otherwise the files are read directly. Nothing is downloaded.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ..errors import DataFormatError, DataNotFoundError, ParameterError
from .cifar import ImageData

__all__ = [
    "DIGIT_CLASSES",
    "ENV_VAR",
    "load_digits",
    "load_image_data",
    "load_mnist",
    "read_idx",
    "write_idx",
]

#: Environment variable naming the directory with the MNIST IDX files.
ENV_VAR = "NEUROGEOM_MNIST"

_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
#: MNIST's magic numbers: unsigned bytes, 3 dims for images and 1 for labels.
_MAGIC = {"images": 0x00000803, "labels": 0x00000801}

Split = Literal["train", "test"]
#: Class names of MNIST and the 8×8 digits.
DIGIT_CLASSES = tuple(str(i) for i in range(10))


def _image_data(
    images: np.ndarray, labels: np.ndarray, source: str, split: str, info: dict[str, str]
) -> ImageData:
    """Pixels ``(N, H, W)`` scaled by their maximum value to ``[0, 1]``, as ``(N, 1, H, W)``."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float64))[:, None]
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    return ImageData(x, y, DIGIT_CLASSES, source, split, info)


def _open(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataFormatError(
                f"{path} looks gzipped but does not decompress ({err}); the file is corrupt or "
                "truncated. Download it again."
            ) from err
    return raw


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (gzipped or not) into an array.

    Parameters
    ----------
    path : path-like
        An IDX file: two zero bytes, a type code, the number of dimensions, the
        dimensions as big-endian uint32, then the data in C order, big-endian.

    Returns
    -------
    ndarray
        With the file's shape and native-endian dtype.

    Raises
    ------
    DataFormatError
        Missing file, bad magic number, unknown type code, or a size that does not match
        the header (truncated or padded).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "x-idx1-ubyte"
    >>> write_idx(f, np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx(f)
    array([3, 1, 4], dtype=uint8)
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"IDX file {p} does not exist.")
    raw = _open(p)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataFormatError(
            f"{p} is not an IDX file: it starts with {raw[:4].hex() or 'nothing'}, expected "
            "00 00 <type> <ndim>."
        )
    code, ndim = raw[2], raw[3]
    if code not in _DTYPES:
        raise DataFormatError(
            f"{p} has IDX type code {code:#04x}; valid codes are "
            f"{', '.join(f'{c:#04x}' for c in _DTYPES)}."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(f"{p} is truncated inside its header ({len(raw)} bytes).")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _DTYPES[code]
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "longer than its header says"
        raise DataFormatError(
            f"{p} is {state}: header says shape {dims} of {dtype.name} "
            f"({expected} bytes), file has {len(raw)} bytes."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compress: bool = False) -> None:
    """Write ``array`` as an IDX file (gzipped when ``compress``); the inverse of :func:`read_idx`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "x-idx2-ubyte.gz"
    >>> write_idx(f, np.eye(2, dtype=np.uint8), compress=True)
    >>> read_idx(f).tolist()
    [[1, 0], [0, 1]]
    """
    a = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}
    native = a.dtype.newbyteorder("=")
    if native not in codes or a.ndim > 255:
        raise DataFormatError(f"cannot write dtype {a.dtype} with {a.ndim} dims as IDX.")
    body = bytes([0, 0, codes[native], a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
    body += a.astype(_DTYPES[codes[native]]).tobytes()
    Path(path).write_bytes(gzip.compress(body) if compress else body)


def _find(root: Path, split: Split, kind: str) -> Path:
    stem = _FILES[(split, kind)]
    for folder in (root, root / "MNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise DataNotFoundError(
        f"no MNIST {split} {kind} in {root}: expected {stem} or {stem}.gz there (or in "
        f"{root / 'MNIST' / 'raw'}). Download the four MNIST IDX files into one directory "
        f"and pass it as data=... or set {ENV_VAR}."
    )


def _resolve_root(path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        env = os.environ.get(ENV_VAR)
        if not env:
            raise DataNotFoundError(
                f"no MNIST directory given: pass path=... or set {ENV_VAR}; for an offline "
                "stand-in use load_digits()."
            )
        path = env
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataNotFoundError(f"MNIST directory {root} does not exist.")
    return root


def _torchvision_arrays(root: Path, split: Split) -> tuple[np.ndarray, np.ndarray] | None:
    """Images and labels by torchvision, or None when it is absent or the layout differs."""
    try:
        from torchvision.datasets import MNIST
    except Exception:  # torchvision is optional and may fail to import for many reasons
        return None
    if not (root / "MNIST" / "raw").is_dir():
        return None
    ds = MNIST(str(root), train=split == "train", download=False)
    return np.asarray(ds.data), np.asarray(ds.targets)


def load_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    split: Split = "train",
    backend: Literal["auto", "idx", "torchvision"] = "auto",
) -> ImageData:
    """Load real MNIST from its IDX files.

    Parameters
    ----------
    path : path-like, optional
        Directory holding the IDX files (or torchvision's ``MNIST/raw`` below it); default
        the environment variable ``NEUROGEOM_MNIST``.
    split : {"train", "test"}
    backend : {"auto", "idx", "torchvision"}
        ``"auto"`` uses torchvision when it imports and finds its layout, else reads the
        files directly.

    Returns
    -------
    ImageData
        ``images`` (N, 1, 28, 28) float64 in ``[0, 1]``, ``labels`` (N,) in 0..9,
        ``source`` ``"mnist"``, ``info`` with the directory and the reader used.

    Raises
    ------
    DataNotFoundError
        No directory or missing files.
    DataFormatError
        Corrupt or truncated files, wrong magic numbers, or image and label counts that
        differ.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> write_idx(f"{root}/train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    >>> write_idx(f"{root}/train-labels-idx1-ubyte", np.array([7, 6], np.uint8))
    >>> d = load_mnist(root, backend="idx")
    >>> tuple(d.images.shape), d.labels.tolist(), d.source
    ((2, 1, 28, 28), [7, 6], 'mnist')
    """
    if split not in ("train", "test"):
        raise ParameterError(f"split={split!r}; use 'train' or 'test'.")
    if backend not in ("auto", "idx", "torchvision"):
        raise ParameterError(f"backend={backend!r}; use 'auto', 'idx' or 'torchvision'.")
    root = _resolve_root(path)
    arrays = None if backend == "idx" else _torchvision_arrays(root, split)
    reader = "idx" if arrays is None else "torchvision"
    if arrays is None and backend == "torchvision":
        raise DataNotFoundError(
            f"backend='torchvision' but torchvision is not importable or {root}/MNIST/raw "
            "does not exist; use backend='idx'."
        )
    if arrays is None:
        arrays = (_read_checked(root, split, "images"), _read_checked(root, split, "labels"))
    images, labels = arrays
    if len(images) != len(labels):
        raise DataFormatError(
            f"MNIST {split} in {root} has {len(images)} images but {len(labels)} labels."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(
            f"MNIST labels must lie in 0..9; found {labels.min()}..{labels.max()}."
        )
    info = {"path": str(root.resolve()), "reader": reader}
    return _image_data(images.astype(np.float64) / 255.0, labels, "mnist", split, info)


def _read_checked(root: Path, split: Split, kind: str) -> np.ndarray:
    path = _find(root, split, kind)
    raw = _open(path)
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if magic != _MAGIC[kind]:
        raise DataFormatError(
            f"{path} has magic number {magic if magic is None else hex(magic)}; MNIST {kind} "
            f"files start with {_MAGIC[kind]:#010x}. Is it the right file?"
        )
    data = read_idx(path)
    if kind == "images" and data.shape[1:] != (28, 28):
        raise DataFormatError(
            f"{path} holds images of shape {data.shape[1:]}; MNIST's are (28, 28)."
        )
    return data


def load_digits() -> ImageData:
    """scikit-learn's bundled 8×8 digits (1797 images), pixels scaled to ``[0, 1]``.

    The offline stand-in for MNIST: no download, same ten classes, 64 pixels (grey levels
    0..16 divided by 16). Its ``source`` is ``"sklearn-digits-8x8"``, so nothing computed
    from it can be mistaken for MNIST.

    Examples
    --------
    >>> d = load_digits()
    >>> tuple(d.images.shape), float(d.images.max()), d.source
    ((1797, 1, 8, 8), 1.0, 'sklearn-digits-8x8')
    """
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    images = np.asarray(bunch.images, dtype=np.float64) / 16.0
    info = {"path": "sklearn.datasets.load_digits", "reader": "scikit-learn"}
    return _image_data(images, bunch.target, "sklearn-digits-8x8", "train", info)


def load_image_data(
    data: str | os.PathLike[str] | None = None, *, split: Split = "train"
) -> ImageData:
    """``load_digits()`` for None or ``"digits"``; real MNIST from ``$NEUROGEOM_MNIST`` for
    ``"mnist"``; otherwise :func:`load_mnist` from the directory ``data``.

    Examples
    --------
    >>> load_image_data().source
    'sklearn-digits-8x8'
    """
    if data is None or str(data) == "digits":
        return load_digits()
    if str(data) == "mnist":
        return load_mnist(None, split=split)
    return load_mnist(data, split=split)
