"""One name, one thing: no public name is both a module and something else, none is defined twice.

``ng.geometry`` is the measuring function (``neurogeom.measure``); the pure math on metrics
and jets is the subpackage ``neurogeom.riemann``, so ``import neurogeom.geometry`` fails.
``ng.compare`` is the function, ``ng.comparison`` its module (docs/architecture.md).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

import neurogeom as ng

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "neurogeom"


def _module_file(package: Path, name: str) -> Path | None:
    """The file of submodule ``name`` of the package in folder ``package``, if there is one."""
    for path in (package / name / "__init__.py", package / f"{name}.py"):
        if path.is_file():
            return path
    return None


def _packages() -> list[str]:
    """Every package of the tree, by dotted name."""
    return sorted(".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py"))


@pytest.fixture
def only_this_checkout(monkeypatch):
    """Imports from this checkout alone: an editable install of another one (its finder
    serves ``neurogeom.<name>`` from that checkout's folder) must not supply a module this
    tree does not have."""
    own = [f for f in sys.meta_path if not _editable_finder(f)]
    monkeypatch.setattr(sys, "meta_path", own)
    for name in [
        m for m in sys.modules if m == "neurogeom.geometry" or m.startswith("neurogeom.geometry.")
    ]:
        monkeypatch.delitem(sys.modules, name)


def _editable_finder(finder: object) -> bool:
    module = finder.__module__ if inspect.isclass(finder) else type(finder).__module__
    return module.startswith("__editable__")


def test_ng_geometry_is_the_measuring_function_and_no_module(only_this_checkout):
    import neurogeom.measure

    assert ng.geometry is neurogeom.measure.geometry
    assert callable(ng.geometry) and not isinstance(ng.geometry, ModuleType)
    assert _module_file(PACKAGE, "geometry") is None
    with pytest.raises(ModuleNotFoundError, match="neurogeom.geometry"):
        importlib.import_module("neurogeom.geometry")
    with pytest.raises(ModuleNotFoundError):
        import neurogeom.geometry as G  # noqa: F401
    assert ng.geometry is neurogeom.measure.geometry  # the failed import rebound nothing


def test_compare_is_the_function_and_comparison_its_module():
    import neurogeom.comparison
    import neurogeom.riemann

    assert ng.comparison is sys.modules["neurogeom.comparison"]
    assert ng.compare is neurogeom.comparison.compare and inspect.isfunction(ng.compare)
    assert _module_file(PACKAGE, "compare") is None
    # the pure curvature tensors live under riemann/, the curvature of response maps on top
    assert _module_file(PACKAGE / "riemann", "curvature") is not None
    assert ng.curvature_tensors.__module__ == "neurogeom.curvature"


@pytest.mark.parametrize("package", _packages())
def test_each_public_name_of_a_package_is_exactly_one_thing(package):
    """A public name of a package is its submodule of that name, or no submodule has it."""
    module = importlib.import_module(package)
    folder = Path(module.__file__).parent
    clashes = []
    for name in module.__all__:
        obj = getattr(module, name)
        file = _module_file(folder, name)
        if isinstance(obj, ModuleType):
            if obj.__name__ != f"{package}.{name}" or file is None:
                clashes.append(f"{package}.{name} is the module {obj.__name__} (an alias)")
        elif file is not None:
            clashes.append(f"{package}.{name} is a {type(obj).__name__} and the module {file}")
    # a submodule that is imported is an attribute of its package: it must be that module
    for path in sorted(folder.iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        if name.startswith("_") or _module_file(folder, name) is None:
            continue
        obj = getattr(module, name, None)
        if obj is not None and not (
            isinstance(obj, ModuleType) and obj.__name__ == f"{package}.{name}"
        ):
            clashes.append(f"{package}.{name} is both a module and a {type(obj).__name__}")
    assert not clashes, "\n".join(clashes)


def test_no_public_name_is_defined_twice():
    """Each public top-level class or function of the package is defined in one module."""
    where: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            if isinstance(node, kinds) and not node.name.startswith("_"):
                where.setdefault(node.name, set()).add(str(path.relative_to(ROOT)))
    twice = {name: sorted(paths) for name, paths in where.items() if len(paths) > 1}
    assert not twice, f"defined in more than one module: {twice}"
