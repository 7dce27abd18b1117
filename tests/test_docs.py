"""The docs stay true to the code."""

import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _api_members():
    spec = importlib.util.spec_from_file_location("api_members", DOCS / "api_members.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_documents_every_public_name_once():
    """docs/api.md has a section per API module; each public name has exactly one entry."""
    import neurogeom

    api = _api_members()
    sections = re.findall(r"^```\{api-module\} (\S+)$", (DOCS / "api.md").read_text(), re.M)
    assert sections == api.API_MODULES, "docs/api.md and api_members.API_MODULES disagree"
    members = api.api_members()
    entries = [(m, n) for m, names in members.items() for n in names]
    where = api.documented(members)
    objects = [getattr(importlib.import_module(m), n) for m, n in entries]
    assert len({id(o) for o in objects}) == len(entries), "an object is documented twice"
    for modname in api.API_MODULES:
        module = importlib.import_module(modname)
        for name in module.__all__:
            obj = getattr(module, name)
            if not inspect.ismodule(obj) and name != "__version__":
                assert id(obj) in where, f"{modname}.{name} is not in the API reference"
    top = [n for n in neurogeom.__all__ if not inspect.ismodule(getattr(neurogeom, n))]
    assert sorted(set(top) - {"__version__"}) == members["neurogeom"]


def test_api_reference_resolves_a_name_by_identity():
    api = _api_members()
    where = api.documented(api.api_members())
    assert where[id(api.lookup("neurogeom.slices.Plane"))] == "neurogeom.Plane"
    top = api.lookup("neurogeom.riemann.iterative.top_eigenvalues")
    assert where[id(top)] == "neurogeom.top_eigenvalues"
    jac = api.lookup("neurogeom.TorchResponseMap.jacobian")  # inherited: the base's entry
    assert where[id(jac)] in (
        "neurogeom.TorchResponseMap.jacobian",
        "neurogeom.ResponseMap.jacobian",
    )
    assert api.lookup("neurogeom.slices.NoSuchThing") is None


def test_relative_links_in_docs_and_readme_exist():
    import re

    root = DOCS.parent
    pages = [root / "README.md", *DOCS.rglob("*.md")]
    missing = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(root)} -> {target}")
    assert not missing, missing


#: Files a user of the repository does not have: the project's private notes and sources.
_PRIVATE = re.compile(r"(?<![\w/.-])(?:\.\./)*(?:reference|seed|shared)/[\w./-]*|\bseed's\b", re.I)


def _user_pages():
    root = DOCS.parent
    pages = [root / "README.md", *DOCS.rglob("*.md")]
    return root, [*pages, *sorted((root / "examples").rglob("*.toml"))]


def test_docs_cite_nothing_a_user_does_not_have():
    """No page links to, or cites, a file outside the repository (copy the fact instead)."""
    root, pages = _user_pages()
    found = []
    for page in pages:
        text = page.read_text()
        for hit in _PRIVATE.finditer(text):
            line = text.count("\n", 0, hit.start()) + 1
            found.append(f"{page.relative_to(root)}:{line}: {hit.group()}")
        if page.suffix == ".md":
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                inside = (page.parent / target).resolve().is_relative_to(root)
                if "://" not in target and not inside:
                    found.append(f"{page.relative_to(root)}: link {target} leaves the repository")
    assert not found, found


def test_the_extras_the_docs_name_are_the_extras_pyproject_has():
    import tomllib

    root = DOCS.parent
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    text = (DOCS / "getting-started.md").read_text()
    listed = re.search(r"Optional extras: (.*?)\.\n", text, re.S)
    assert listed, "getting-started.md lists the optional extras"
    named = set(re.findall(r"`([\w-]+)`", listed.group(1)))
    assert named == set(extras) - {"test", "dev"}, (named, sorted(extras))


@pytest.mark.slow
def test_the_site_builds_with_every_reference_resolved(tmp_path):
    """The CI build (nitpicky, warnings as errors); every top-level name has its entry."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("numpydoc")
    import subprocess
    import sys

    import neurogeom

    cmd = [sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-q", "-b", "html"]
    run = subprocess.run([*cmd, str(DOCS), str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-4000:]
    html = (tmp_path / "api.html").read_text()
    for name in neurogeom.__all__:
        if name != "__version__" and not inspect.ismodule(getattr(neurogeom, name)):
            assert f'id="neurogeom.{name}"' in html, name
    assert (tmp_path / "gallery" / "fig2_line.html").exists()
