"""MNIST from its IDX files, and scikit-learn's bundled 8×8 digits as the offline stand-in.

Both loaders return an :class:`ImageData`: images scaled to ``[0, 1]`` (float64), integer
labels and a ``source`` string that says where they came from, so an experiment can record
it. Real MNIST is read from a directory the user gives (argument, or the environment
variable ``NEUROGEOM_MNIST``) that holds the four original files, gzipped or not::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

torchvision is used when it is installed and the directory has its layout
(``<root>/MNIST/raw``); otherwise the files are read directly. Nothing is downloaded.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import DataFormatError

__all__ = [
    "ENV_VAR",
    "ImageData",
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


@dataclass(frozen=True)
class ImageData:
    """Labelled grey-scale images.

    Attributes
    ----------
    images : ndarray, shape (N, H, W), float64 in [0, 1]
    labels : ndarray, shape (N,), int64
    source : str
        Where the data came from (``"mnist:<dir>:<split>"`` or ``"sklearn-digits-8x8"``).
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    @property
    def n_features(self) -> int:
        """Pixels per image (``H · W``)."""
        return int(np.prod(self.images.shape[1:]))

    def flat(self) -> np.ndarray:
        """Images as rows, shape ``(N, H · W)``."""
        return self.images.reshape(len(self.images), -1)

    def first_of(self, label: int) -> np.ndarray:
        """The first image with ``label``, shape ``(H, W)``; error if there is none."""
        hits = np.flatnonzero(self.labels == label)
        if hits.size == 0:
            raise ValueError(
                f"no image with label {label} in {self.source}; labels present: "
                f"{sorted(set(self.labels.tolist()))}."
            )
        return self.images[hits[0]]


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
        raise DataFormatError(f"IDX file {p} does not exist.")
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
    raise DataFormatError(
        f"no MNIST {split} {kind} in {root}: expected {stem} or {stem}.gz there (or in "
        f"{root / 'MNIST' / 'raw'}). Download the four MNIST IDX files into one directory "
        f"and pass it as data=... or set {ENV_VAR}."
    )


def _resolve_root(path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        env = os.environ.get(ENV_VAR)
        if not env:
            raise DataFormatError(
                f"no MNIST directory given: pass path=... or set {ENV_VAR}; for an offline "
                "stand-in use load_digits()."
            )
        path = env
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataFormatError(f"MNIST directory {root} does not exist.")
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
        ``images`` (N, 28, 28) in ``[0, 1]``, ``labels`` (N,) in 0..9.

    Raises
    ------
    DataFormatError
        No directory, missing, corrupt or truncated files, wrong magic numbers, or image
        and label counts that differ.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> write_idx(f"{root}/train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    >>> write_idx(f"{root}/train-labels-idx1-ubyte", np.array([7, 6], np.uint8))
    >>> d = load_mnist(root, backend="idx")
    >>> d.images.shape, d.labels.tolist()
    ((2, 28, 28), [7, 6])
    """
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}; use 'train' or 'test'.")
    if backend not in ("auto", "idx", "torchvision"):
        raise ValueError(f"backend={backend!r}; use 'auto', 'idx' or 'torchvision'.")
    root = _resolve_root(path)
    arrays = None if backend == "idx" else _torchvision_arrays(root, split)
    if arrays is None and backend == "torchvision":
        raise DataFormatError(
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
    return ImageData(
        images.astype(np.float64) / 255.0,
        labels.astype(np.int64),
        f"mnist:{root.resolve()}:{split}",
    )


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

    The offline stand-in for MNIST: no download, same ten classes, 64 pixels.

    Examples
    --------
    >>> d = load_digits()
    >>> d.images.shape, float(d.images.max()), d.source
    ((1797, 8, 8), 1.0, 'sklearn-digits-8x8')
    """
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    images = np.asarray(bunch.images, dtype=np.float64) / 16.0
    return ImageData(images, np.asarray(bunch.target, dtype=np.int64), "sklearn-digits-8x8")


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
