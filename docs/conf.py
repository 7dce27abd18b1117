"""Sphinx configuration: the Markdown pages (MyST) and the API reference (autodoc, numpydoc).

Build: ``sphinx-build -n -W --keep-going -b html docs docs/_build/html`` (nitpicky: every
cross-reference to a neurogeom object must resolve; warnings are errors).
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "docs")]
os.environ.setdefault("MPLBACKEND", "Agg")

from api_members import api_members, documented, lookup  # noqa: E402
from sphinx.util.docutils import SphinxDirective  # noqa: E402

import neurogeom  # noqa: E402

project = "neurogeom"
author = "the neurogeom authors"
copyright = "the neurogeom authors, MIT licence"
release = version = neurogeom.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "**/__pycache__"]
html_theme = "alabaster"
html_title = f"neurogeom {release}"

# -- MyST: the pages are plain Markdown that also reads well on GitHub -------------------------
myst_heading_anchors = 3  # [text](page.md#a-heading) links resolve

# -- autodoc and numpydoc ----------------------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "alphabetical"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
numpydoc_show_class_members = False  # autodoc documents the members
numpydoc_class_members_toctree = False

autodoc_inherit_docstrings = False  # not torch's or scikit-learn's docstrings on our overrides

MEMBERS = api_members()
DOCUMENTED = documented(MEMBERS)


class ApiModule(SphinxDirective):
    """``{api-module} name`` (MyST): a module's docstring and its members in ``MEMBERS``.

    No module's name is also a documented object (one name, one thing:
    ``tests/test_names.py``); a page that would make one fails the build.
    """

    required_arguments = 1

    def run(self) -> list[Any]:
        modname = self.arguments[0]
        if modname in set(DOCUMENTED.values()):
            raise self.error(f"{modname} names both a module and a documented object")
        lines = [f".. automodule:: {modname}", "   :no-members:"]
        module = importlib.import_module(modname)
        for name in MEMBERS[modname]:
            obj = getattr(module, name)
            kind = (
                "exception"
                if inspect.isclass(obj) and issubclass(obj, BaseException)
                else "class"
                if inspect.isclass(obj)
                else "function"
                if callable(obj)
                else "data"
            )
            lines += ["", f".. auto{kind}:: {modname}.{name}"]
        # the page is MyST Markdown: hand the autodoc directives to its reST bridge
        return self.parse_text_to_nodes("\n".join(["```{eval-rst}", *lines, "```"]))


def _resolve_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a public object spelled by another of its names.

    ``neurogeom.slices.Plane``, ``neurogeom.riemann.iterative.top_eigenvalues`` or a bare
    ``check_metric`` in a docstring of another module all name an object that the API
    reference documents once, under one name: find that name by the object's identity
    (a bare name that is no member of the context's class or module: the one module-level
    member of that name). Anything else stays unresolved, and the nitpicky build fails.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    module, cls = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if module:
        candidates += [f"{module}.{cls}.{target}" if cls else "", f"{module}.{target}"]
    for candidate in filter(None, candidates):
        obj = lookup(candidate)
        if obj is not None and id(obj) in DOCUMENTED:
            break
    else:
        if "." in target:
            return None
        # a bare name: a module-level member of the API, if exactly one has that name
        found = {f"{m}.{target}" for m, names in MEMBERS.items() if target in names}
        if len(found) != 1:
            return None
        obj = lookup(found.pop())
    domain = env.get_domain("py")
    node = node.deepcopy()
    node["reftarget"] = DOCUMENTED[id(obj)]
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], node["reftarget"], node, contnode
    )


#: ``*stimulus_shape`` in a numpydoc type (``shape (m, *stimulus_shape)``) is reST emphasis.
_STAR = re.compile(r"(?<![\w*`\\])\*(?=[A-Za-z_])")
_TYPED_SECTIONS = {"Parameters", "Other Parameters", "Returns", "Yields", "Attributes", "Raises"}


def _escape_stars(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Escape ``*name`` in the name/type lines of numpydoc's typed sections (not the prose)."""
    section = None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            section = line.strip()
        elif section in _TYPED_SECTIONS and line[:1] not in ("", " ") and "`" not in line:
            lines[i] = _STAR.sub(r"\\*", line)


def _skip_member(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """Leave out the ``set_*_request`` methods scikit-learn generates on estimators."""
    return True if re.fullmatch(r"set_\w+_request", name) else None


# -- nitpicky: references to neurogeom must resolve; other libraries have no inventory offline --
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(numpy|np|torch|nn|xarray|xr|scipy|sklearn|pandas|pd|matplotlib|mpl|dask|zarr|"
        r"pynwb|h5py|tqdm|pathlib|collections|typing|typing_extensions|os|io|dataclasses|"
        r"enum|concurrent|argparse|json)(\..*)?",
    ),
    (
        r"py:.*",
        r"(Any|Callable|Sequence|Mapping|Iterable|Iterator|Literal|Path|Self|TypeAlias|"
        r"NamedTuple|Generator|Protocol|ClassVar|Hashable|Optional|Union)",
    ),
]


def setup(app: Any) -> None:
    app.add_directive("api-module", ApiModule)
    app.connect("autodoc-process-docstring", _escape_stars, priority=100)  # before numpydoc
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("missing-reference", _resolve_alias)
