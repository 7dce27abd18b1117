"""Array plumbing shared by the package: numpy/torch round trips and input checks."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import torch

from .errors import NonFiniteError, ShapeError

ArrayLike: TypeAlias = "np.ndarray | torch.Tensor"


def is_torch(x: object) -> bool:
    """Whether ``x`` is a torch tensor."""
    return isinstance(x, torch.Tensor)


def to_tensor(
    x: Any, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Convert ``x`` (numpy array, tensor, sequence) to a tensor on ``device``."""
    if isinstance(x, torch.Tensor):
        return x.to(device=device if device is not None else x.device, dtype=dtype or x.dtype)
    arr = np.asarray(x)
    if not arr.flags.writeable:  # torch cannot wrap read-only memory safely
        arr = arr.copy()
    if dtype is None and arr.dtype == np.float64:
        dtype = torch.float64
    t = torch.as_tensor(arr, device=device)
    return t.to(dtype) if dtype is not None else t


def like(result: torch.Tensor, reference: object) -> Any:
    """Return ``result`` as the kind of array ``reference`` is (numpy in, numpy out)."""
    if is_torch(reference):
        assert isinstance(reference, torch.Tensor)
        return result.to(reference.device)
    return result.detach().cpu().numpy()


def check_finite(x: torch.Tensor | np.ndarray, name: str) -> None:
    """Raise :class:`NonFiniteError` naming ``name`` if ``x`` holds NaN or inf."""
    finite = torch.isfinite(x) if isinstance(x, torch.Tensor) else np.isfinite(np.asarray(x))
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise NonFiniteError(
            f"{name} contains {bad} NaN or infinite value(s); remove or replace them "
            "(e.g. drop those points) before measuring geometry."
        )


def check_ndim(x: torch.Tensor | np.ndarray, min_ndim: int, name: str, expected: str) -> None:
    """Raise :class:`ShapeError` if ``x`` has fewer than ``min_ndim`` dimensions."""
    if x.ndim < min_ndim:
        raise ShapeError(
            f"{name} has shape {tuple(x.shape)}, expected {expected}. "
            "The first axis indexes points; add it with x[None] for a single point."
        )
