"""No module of the package uses another module's private names (docs/architecture.md).

A module's ``_``-prefixed names are its own: another module imports only public names
(a private *module* such as ``neurogeom._arrays`` is fine, its public names are its
interface), never reaches into another module's privates (``dataset._engine``), and calls
on other objects only the private members that it defines itself (``response_map._unwrap``
from outside ``neurogeom.maps.base`` is not). A subclass may use the hooks of its base
class through ``self``/``cls`` (the estimators' ``self._query``): that is inheritance.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "neurogeom"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def _defined(tree: ast.AST) -> set[str]:
    """The private names a module defines: functions, classes, attributes, variables."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    return {n for n in names if _private(n)}


def private_uses(path: Path, source: str | None = None, *, members: bool = True) -> list[str]:
    """``path:line: what`` for each private name of another neurogeom module it uses.

    With ``members``, also each private member called on an object (not ``self``/``cls``)
    that the module does not define itself.
    """
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    own = _defined(tree)
    modules: dict[str, str] = {}  # local name -> the neurogeom object it is bound to
    found = []
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            if base.split(".")[0] != "neurogeom" or base == module:
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                modules[alias.asname or alias.name] = target  # a module, class, function
                if _private(alias.name) and not _is_module(target):
                    found.append(f"{where}:{node.lineno}: from {base} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "neurogeom":
                    local = alias.asname or alias.name.split(".")[0]
                    modules[local] = alias.name if alias.asname else "neurogeom"
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        chain, value = [node.attr], node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        dotted = ".".join(reversed(chain))
        if isinstance(value, ast.Name) and value.id in modules:
            found.append(f"{where}:{node.lineno}: {value.id}.{dotted}")
        elif not members or (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            continue  # a subclass using its base's hooks (``self._query``): inheritance
        elif node.attr not in own:  # a private member that this module does not define
            found.append(f"{where}:{node.lineno}: ._{node.attr.lstrip('_')} of another module")
    return found


def test_no_module_uses_another_modules_private_names():
    bad = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in private_uses(path)]
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


#: Tests that still touch a private attribute, the only way to observe a step: this one
#: wraps the local-polynomial weight solve to count it.
SPIES = {"tests/maps/test_protocol.py: LocalPolynomial._rows"}


def test_tests_use_the_public_api():
    """Tests import and reach into no private name of the package.

    Faking a fault by monkeypatching a private helper by name
    (``monkeypatch.setattr(_files, "_fsync_dir", failing)``) is not such a use.
    """
    found = [
        hit
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.name != Path(__file__).name
        for hit in private_uses(path, members=False)
    ]
    bad = [hit for hit in found if hit.split(":")[0] + ":" + hit.split(":", 2)[2] not in SPIES]
    assert not bad, "tests use private names of the package:\n" + "\n".join(bad)


def test_the_check_sees_imports_reach_ins_and_foreign_members():
    """The walker flags each kind of use (source parsed as if it were a module of the package)."""
    fake = PACKAGE / "riemann" / "_probe_private_names.py"
    source = (
        "from .volume import _hidden, check_rank\n"
        "from .. import dataset\n"
        "from .._arrays import check_finite\n"
        "import neurogeom.comparison as cmp\n"
        "from ..maps import ResponseMap\n"
        "def _mine(self):\n"
        "    self._own = 1\n"
        "    return self._own, self._hook(), dataset._engine(), cmp._x, self.m._unwrap({}), ResponseMap._y\n"
    )
    found = sorted(hit.split(": ", 1)[1] for hit in private_uses(fake, source))
    assert found == [
        "._unwrap of another module",
        "ResponseMap._y",
        "cmp._x",
        "dataset._engine",
        "from neurogeom.riemann.volume import _hidden",
    ], found
