"""What the API reference documents, and under which name (used by docs/conf.py and the tests).

Sphinx-free, so tests/test_docs.py can check the reference covers the public API without
building it.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

#: The modules of the API reference (docs/api.md has one ``{api-module}`` directive each), in page
#: order. An object exported by several is documented once, under the first: ``neurogeom``
#: first makes that the name users import (``ng.compare``, not ``neurogeom.comparison.compare``).
API_MODULES = [
    "neurogeom",
    "neurogeom.riemann",
    "neurogeom.riemann.iterative",
    "neurogeom.riemann.geodesic",
    "neurogeom.maps",
    "neurogeom.estimators",
    "neurogeom.simulate",
    "neurogeom.slices",
    "neurogeom.dataset",
    "neurogeom.plot",
    "neurogeom.train",
    "neurogeom.models",
    "neurogeom.data",
    "neurogeom.data.neural",
    "neurogeom.experiments",
    "neurogeom.experiments.runner",
    "neurogeom.experiments.config",
    "neurogeom.errors",
    "neurogeom.comparison",
    "neurogeom.pipeline",
    "neurogeom.scale",
]


def api_members() -> dict[str, list[str]]:
    """Names each API module documents: its ``__all__``, less what an earlier one has."""
    seen: set[int] = set()
    out: dict[str, list[str]] = {}
    for modname in API_MODULES:
        module = importlib.import_module(modname)
        names = []
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("_") or inspect.ismodule(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            names.append(name)
        out[modname] = sorted(names)
    return out


def documented(members: dict[str, list[str]]) -> dict[int, str]:
    """``id(object) -> the name it is documented under``, with the classes' own members."""
    where: dict[int, str] = {}
    for modname, names in members.items():
        module = importlib.import_module(modname)
        for name in names:
            obj = getattr(module, name)
            where[id(obj)] = f"{modname}.{name}"
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if not attr.startswith("_"):
                        where.setdefault(id(value), f"{modname}.{name}.{attr}")
    return where


def lookup(path: str) -> Any:
    """The object a dotted path names (module attributes, then class attributes), or None."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            try:
                if inspect.isclass(obj):
                    obj = inspect.getattr_static(obj, attr)
                else:
                    obj = getattr(obj, attr)
            except AttributeError:
                return None
        return obj
    return None
