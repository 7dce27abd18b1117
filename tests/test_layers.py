"""The core never imports the paper-reproduction application (docs/architecture.md).

The layer of each module is read from the table in ``docs/architecture.md``: a module is
application if it is, or is under, a row marked ``application``; every other module is core.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "neurogeom"
TABLE = re.compile(r"^\| `(neurogeom[\w.]*)` \| (core|application) \|", re.M)


def layer_table() -> dict[str, str]:
    """Module -> ``"core"`` or ``"application"``, as docs/architecture.md lists them."""
    rows = TABLE.findall((ROOT / "docs" / "architecture.md").read_text())
    assert rows, "docs/architecture.md has no layer table"
    table = dict(rows)
    assert len(table) == len(rows), "a module is listed twice"
    return table


APPLICATION = tuple(m for m, layer in layer_table().items() if layer == "application")


def is_application(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in APPLICATION)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


CORE = sorted(m for m in all_modules() if not is_application(m))


def test_the_table_names_modules_that_exist_and_splits_the_package():
    modules = all_modules()
    stale = [m for m in layer_table() if m not in modules]
    assert not stale, f"docs/architecture.md lists modules that do not exist: {stale}"
    assert "neurogeom.experiments.runner" not in CORE and "neurogeom.data.neural" in CORE
    assert {"neurogeom.models.shallow", "neurogeom.cli"} <= set(modules) - set(CORE)


class _Imports(ast.NodeVisitor):
    """Every module an AST imports (anywhere), except under ``if TYPE_CHECKING:``."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[int, str]] = []

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":  # only the type checker runs these imports
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(node.lineno, alias.name) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        self.found.append((node.lineno, base))
        for alias in node.names:  # a name may be a submodule or a lazily forwarded one
            self.found.append((node.lineno, _forwarded(base, alias.name)))


def _forwarded(package: str, name: str) -> str:
    """``package.name``, or the application submodule a mixed package forwards it to."""
    if package in ("neurogeom.data", "neurogeom.plot"):
        sub = importlib.import_module(package).APPLICATION_NAMES.get(name)
        if sub is not None:
            return f"{package}.{sub}"
    return f"{package}.{name}"


def test_no_core_module_imports_an_application_module():
    modules = all_modules()
    bad = []
    for module in CORE:
        path = modules[module]
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), str(path)))
        bad += [
            f"{path.relative_to(ROOT)}:{line}: imports {target}"
            for line, target in visitor.found
            if is_application(target)
        ]
    assert not bad, "core modules import the application:\n" + "\n".join(bad)


_PROBE = """
import json, sys
import neurogeom
first = sorted(sys.modules)
import importlib
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
all_core = sorted(sys.modules)
print(json.dumps({"file": neurogeom.__file__, "import_neurogeom": first, "all_core": all_core,
                  "core_variables": sorted(neurogeom.dataset.VARIABLES)}))
"""


@functools.cache
def probe() -> tuple[dict[str, Any], str]:
    """Run _PROBE in a fresh interpreter on this checkout: its JSON and its import times."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _PROBE, json.dumps(CORE)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    loaded = json.loads(done.stdout)
    assert Path(loaded["file"]).resolve() == PACKAGE / "__init__.py", "probed another checkout"
    return loaded, done.stderr


def test_import_neurogeom_and_every_core_module_load_no_application_module():
    loaded, importtime = probe()
    timed = re.findall(r"\|\s+(neurogeom[\w.]*)\s*$", importtime, re.M)
    assert "neurogeom.data.neural" in timed and "neurogeom.measure" in timed
    for what, names in (
        ("python -X importtime -c 'import neurogeom'", timed),
        ("import neurogeom", loaded["import_neurogeom"]),
        ("importing every core module", loaded["all_core"]),
    ):
        app = sorted(n for n in names if is_application(n))
        assert not app, f"{what} loads application modules: {app}"


def test_the_core_variable_table_has_only_core_variables():
    """The experiments register their own variables; the core's table does not hold them."""
    import neurogeom.experiments  # noqa: F401  (registers the experiments' variables)
    from neurogeom.dataset import VARIABLES

    core, everything = set(probe()[0]["core_variables"]), set(VARIABLES)
    experiments_own = {"loss", "accuracy", "spearman_entropy", "boundary_distance"}
    assert experiments_own <= everything - core, sorted(everything - core)
    assert {"metric", "log_volume_element", "ricci_scalar", "pearson_r"} <= core


def test_mixed_packages_forward_their_application_names():
    for package in ("neurogeom.data", "neurogeom.plot"):
        module = importlib.import_module(package)
        names = module.APPLICATION_NAMES
        assert set(names) <= set(module.__all__) and set(names) <= set(dir(module))
        for name, sub in names.items():
            assert is_application(f"{package}.{sub}"), (package, name, sub)
            owner = importlib.import_module(f"{package}.{sub}")
            assert getattr(module, name) is getattr(owner, name), (package, name)


def test_run_experiment_is_not_a_top_level_name_and_says_where_it_is():
    import pytest

    import neurogeom as ng

    assert "run_experiment" not in ng.__all__
    with pytest.raises(AttributeError, match="from neurogeom.experiments import run_experiment"):
        _ = ng.run_experiment
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = ng.nope


def test_provenance_is_stamped_in_one_place():
    """Only neurogeom.dataset.stamp_provenance writes ``neurogeom_version`` and ``config``."""
    writes = re.compile(r"""attrs\[["'](neurogeom_version|config)["']\]\s*=[^=]""")
    found = [
        (str(path.relative_to(ROOT)), hit.group(1))
        for path in sorted(PACKAGE.rglob("*.py"))
        for hit in writes.finditer(path.read_text())
    ]
    assert sorted(found) == [
        ("neurogeom/dataset.py", "config"),
        ("neurogeom/dataset.py", "neurogeom_version"),
    ], found
    stamp = (PACKAGE / "dataset.py").read_text().split("def stamp_provenance(")[1]
    assert 'out.attrs["config"] =' in stamp.split("\ndef ")[0]
