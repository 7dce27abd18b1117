"""The docs stay true to the code."""

import importlib.util
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_reference_is_current():
    spec = importlib.util.spec_from_file_location("build_api", DOCS / "build_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "api.md").read_text() == module.render(), "run: python docs/build_api.py"


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
