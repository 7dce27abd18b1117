"""Forward names of application submodules from a mixed package without importing them.

``neurogeom.data`` and ``neurogeom.plot`` hold core modules (recordings readers, generic
plots) next to application ones (the paper's data sets and figures). Their ``__init__``
imports only the core modules; the application names stay reachable from the package
(``from neurogeom.data import sinusoid_task``) through a module ``__getattr__`` that imports
the owning submodule on first use (PEP 562). See ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def forward(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` that import ``names`` from submodules on demand.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of name to submodule
        Each forwarded name and the submodule (relative to ``package``) that defines it.
    namespace : dict
        The package's ``globals()``; a forwarded name is cached there once loaded.

    Returns
    -------
    (__getattr__, __dir__)
        To assign at module level in the package.

    Examples
    --------
    >>> getattr_, dir_ = forward("neurogeom.data", {"xor_points": "toy"}, {})
    >>> "xor_points" in dir_()
    True
    >>> getattr_("xor_points").__module__
    'neurogeom.data.toy'
    >>> getattr_("nope")
    Traceback (most recent call last):
    ...
    AttributeError: module 'neurogeom.data' has no attribute 'nope'
    """

    def __getattr__(name: str) -> Any:
        try:
            submodule = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
