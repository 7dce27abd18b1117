"""The one progress-bar mechanism of the package (tqdm, a core dependency)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

__all__ = ["progress", "progress_enabled"]

T = TypeVar("T")


def progress_enabled(enabled: bool | None) -> bool:
    """Resolve a ``progress=`` setting: None means "on when stderr is a terminal".

    Examples
    --------
    >>> progress_enabled(False)
    False
    """
    if enabled is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(enabled)


def progress(
    items: Iterable[T], *, total: int | None = None, desc: str = "", enabled: bool | None = None
) -> Iterator[T]:
    """Iterate ``items``, with a tqdm bar on stderr when :func:`progress_enabled` says so.

    Parameters
    ----------
    items : iterable
    total : int, optional
        Length of ``items`` when it has no ``len``.
    desc : str
        Label of the bar.
    enabled : bool or None
        True: always show; False: never; None (default): only when stderr is a terminal.

    Examples
    --------
    >>> list(progress([1, 2], enabled=False))
    [1, 2]
    """
    if not progress_enabled(enabled):
        yield from items
        return
    yield from tqdm(items, total=total, desc=desc, leave=False, file=sys.stderr)
