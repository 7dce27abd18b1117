"""Array plumbing shared by the package: the one intake path, numpy/torch round trips, checks.

Every public entry point that takes arrays goes through :func:`as_array` (any array-like:
lists, numpy arrays of any strides and real dtype, tensors with or without a graph) and,
for batches of stimuli, :func:`as_points`, so that one set of rules decides what is
accepted and what each refusal says.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import torch

from .errors import InputTypeError, NonFiniteError, ParameterError, ResourceError, ShapeError

ArrayLike: TypeAlias = "np.ndarray | torch.Tensor"


def is_torch(x: object) -> bool:
    """Whether ``x`` is a torch tensor."""
    return isinstance(x, torch.Tensor)


def as_array(x: Any, name: str = "input") -> np.ndarray | torch.Tensor:
    """The common intake of array-likes: a real numpy array or a detached tensor.

    Lists and other sequences become numpy arrays; numpy arrays with negative or odd
    strides become contiguous; tensors are detached from any autograd graph. Complex,
    string and object data are refused with :class:`~neurogeom.errors.InputTypeError`.

    Examples
    --------
    >>> as_array([[1, 2]], "points").shape
    (1, 2)
    >>> as_array(np.arange(3.0)[::-1]).flags.c_contiguous
    True
    """
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise InputTypeError(
                f"{name} is a complex tensor ({x.dtype}); geometry needs real values. "
                "Pass the real and imaginary parts as separate stimulus coordinates."
            )
        return x.detach()
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged lists and the like
        raise InputTypeError(
            f"{name} could not be read as an array ({err}); pass a rectangular array of "
            "real numbers."
        ) from None
    if np.iscomplexobj(arr):
        raise InputTypeError(
            f"{name} has complex dtype {arr.dtype}; geometry needs real values. Pass the "
            "real and imaginary parts as separate stimulus coordinates."
        )
    if arr.dtype.kind not in "fiub":
        raise InputTypeError(
            f"{name} has dtype {arr.dtype} ({type(x).__name__}); expected real numbers "
            "(float, int or bool)."
        )
    if not arr.flags.c_contiguous or not arr.flags.writeable:
        arr = np.ascontiguousarray(arr).copy()
    return arr


def to_tensor(
    x: Any, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """``x`` through :func:`as_array`, as a tensor on ``device``.

    Without ``dtype`` the data keep their dtype (numpy float64 stays float64).
    """
    arr = as_array(x)
    t = arr if isinstance(arr, torch.Tensor) else torch.from_numpy(arr)
    return t.to(device=device if device is not None else t.device, dtype=dtype or t.dtype)


def as_points(
    x: Any,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    name: str = "points",
    stimulus_shape: tuple[int, ...] | None = None,
) -> torch.Tensor:
    """A batch of stimuli ``(m, *stimulus_shape)`` as a finite tensor, or a clear error.

    Parameters
    ----------
    x : array-like, shape (m, *stimulus_shape)
    dtype : torch.dtype, optional
        Cast to it (default: floating data keep their dtype, integer and boolean data
        become float64); a value that overflows the dtype raises
        :class:`~neurogeom.errors.NonFiniteError` naming the point and the dtype.
    device : torch.device or str, optional
    name : str
        What the caller calls the argument, for messages.
    stimulus_shape : tuple of int, optional
        The shape one stimulus must have.

    Examples
    --------
    >>> as_points([[0.0, 1.0]]).shape
    torch.Size([1, 2])
    >>> as_points(np.zeros(2))
    Traceback (most recent call last):
    ...
    neurogeom.errors.ShapeError: points has shape (2,), expected (m, *stimulus_shape). The...
    """
    arr = as_array(x, name)
    expected = "(m, *stimulus_shape)" if stimulus_shape is None else f"(m, {_dims(stimulus_shape)})"
    if arr.ndim < 2:
        raise ShapeError(
            f"{name} has shape {tuple(arr.shape)}, expected {expected}. The first axis "
            "indexes points; add it with x[None] for a single point."
        )
    if arr.shape[0] == 0:
        raise ShapeError(
            f"{name} has shape {tuple(arr.shape)}: no points. Pass at least one point."
        )
    if stimulus_shape is not None and tuple(arr.shape[1:]) != tuple(stimulus_shape):
        raise ShapeError(
            f"{name} has shape {tuple(arr.shape)}, so each stimulus has shape "
            f"{tuple(arr.shape[1:])}; expected {expected}."
        )
    check_finite(arr, name)
    floating = arr.is_floating_point() if isinstance(arr, torch.Tensor) else arr.dtype.kind == "f"
    if dtype is None and not floating:
        dtype = torch.float64  # integer and boolean stimuli are real numbers
    t = to_tensor(arr, dtype=dtype, device=device)
    if dtype is not None:  # a cast can overflow (1e300 in float32)
        check_finite(t, name, cause=f"after conversion to {t.dtype} (its range is exceeded)")
    return t


def _dims(shape: tuple[int, ...]) -> str:
    return ", ".join(map(str, shape))


def like(result: torch.Tensor, reference: object) -> Any:
    """Return ``result`` as the kind of array ``reference`` is (numpy in, numpy out)."""
    if is_torch(reference):
        assert isinstance(reference, torch.Tensor)
        return result.to(reference.device)
    return result.detach().cpu().numpy()


def first_nonfinite(x: torch.Tensor | np.ndarray) -> int | None:
    """Index along the first axis of the first entry holding NaN or inf, or None."""
    finite = torch.isfinite(x) if isinstance(x, torch.Tensor) else np.isfinite(np.asarray(x))
    per_point = finite.reshape(finite.shape[0], -1).all(1) if finite.ndim else finite
    if bool(per_point.all()):
        return None
    bad = torch.nonzero(~per_point) if isinstance(per_point, torch.Tensor) else None
    return int(bad[0, 0]) if bad is not None else int(np.flatnonzero(~per_point)[0])


def check_finite(
    x: torch.Tensor | np.ndarray,
    name: str,
    *,
    offset: int = 0,
    cause: str = "",
    hint: str = "Remove or replace those entries (e.g. drop those points) before measuring "
    "geometry.",
) -> None:
    """Raise :class:`NonFiniteError` naming ``name``, the first bad point and the dtype.

    ``offset`` is added to the index (the position of a block in the caller's array).
    """
    finite = torch.isfinite(x) if isinstance(x, torch.Tensor) else np.isfinite(np.asarray(x))
    if bool(finite.all()):
        return
    bad = int((~finite).sum())
    index = None
    where = ""
    if getattr(x, "ndim", 0) >= 1 and x.shape[0] > 0:
        index = offset + (first_nonfinite(x) or 0)
        where = f" (the first at index {NonFiniteError.INDEX} along the first axis)"
    because = f" {cause}" if cause else ""
    raise NonFiniteError(
        f"{name} contains {bad} NaN or infinite value(s){where}{because}; dtype {x.dtype}. {hint}",
        index=index,
    )


def check_cotangents(
    v: Any, shape: tuple[int, ...], dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Cotangents ``v`` of responses ``(m, n)`` as a finite tensor, refused otherwise."""
    t = to_tensor(as_array(v, "cotangents"), dtype=dtype)
    if tuple(t.shape) != tuple(shape):
        raise ShapeError(
            f"cotangents have shape {tuple(t.shape)}; expected {tuple(shape)} (one per "
            "response of each point the pullback was taken at)."
        )
    check_finite(t, "cotangents")
    return t


def check_count(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    """An integer setting (steps, resolution, k) in ``minimum..maximum``, or a ParameterError.

    Booleans, floats (even integral ones such as ``3.0``), strings and None are refused: a
    count is an ``int`` (or a numpy integer).

    Examples
    --------
    >>> check_count(3, "steps", 2)
    3
    >>> check_count(1.5, "steps", 2)
    Traceback (most recent call last):
    ...
    neurogeom.errors.ParameterError: steps=1.5 (float); expected an integer >= 2.
    """
    bound = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ParameterError(
            f"{name}={value!r} ({type(value).__name__}); expected an integer {bound}."
        )
    if value < minimum or (maximum is not None and value > maximum):
        raise ParameterError(f"{name}={value}; expected an integer {bound}.")
    return int(value)


def available_memory() -> int | None:
    """Bytes of memory available to this process (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_fits(nbytes: int, what: str, fix: str) -> None:
    """Refuse, before allocating it, ``what`` needing ``nbytes`` more than the free memory.

    Raises :class:`~neurogeom.errors.ResourceError` naming ``what``, the size needed, the
    memory available and ``fix`` (how to ask for less). Where the free memory cannot be
    read, nothing is refused.
    """
    available = available_memory()
    if available is not None and nbytes > available:
        raise ResourceError(
            f"{what} needs ~{nbytes / 2**30:.1f} GiB, more than the "
            f"{available / 2**30:.1f} GiB available. {fix}"
        )


def as_bounds(bounds: Any, name: str = "bounds", d: int | None = None) -> np.ndarray:
    """Intervals ``(d, 2)`` float64, finite, ``low < high`` in each row; or a clear error.

    A wrong shape is a :class:`~neurogeom.errors.ShapeError`, NaN or inf a
    :class:`~neurogeom.errors.NonFiniteError`, an empty or reversed interval a
    :class:`~neurogeom.errors.ParameterError`.

    Examples
    --------
    >>> as_bounds([(0, 1), (-1, 1)])
    array([[ 0.,  1.],
           [-1.,  1.]])
    """
    b = np.asarray(as_array(bounds, name), dtype=np.float64)
    rows = "d" if d is None else str(d)
    if b.ndim != 2 or b.shape[1] != 2 or len(b) == 0 or (d is not None and len(b) != d):
        raise ShapeError(
            f"{name}={bounds!r} has shape {b.shape}; expected ({rows}, 2): one (low, high) "
            "pair per stimulus dimension, e.g. [(-1, 1), (0, 2)]."
        )
    check_finite(b, name, hint="Give finite (low, high) pairs.")
    if not np.all(b[:, 1] > b[:, 0]):
        raise ParameterError(f"{name}={bounds!r}; expected low < high in every (low, high) pair.")
    return b
