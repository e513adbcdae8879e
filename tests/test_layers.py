"""The package is layered as the pipeline runs, and no module imports itself back (issue 15).

Every import between themescope's modules is read with ``ast`` (at module level, in
functions and under ``TYPE_CHECKING``; ``import x``, ``from x import y`` and relative
imports): a module may import its own layer or a lower one, never a higher one, and
no chain of imports may lead back to where it started. Only import statements
count: not the parent packages Python imports first (``themescope/__init__`` imports
the pipeline, to re-export the Summarizer), nor a name given to ``importlib``.

The layers, lowest first (``LAYERS`` below; a new top-level module or subpackage
fails the test until it is placed in one):

============  =====================================================================
shared        the top-level modules every stage uses: errors, settings, devices,
              the run directory and its manifest and documents, the bundled models
              and the phrase embedders (``embedding``, used by model/ and themes/)
media         ``media/``: frames, transcripts, on-screen text, alignment
model         ``model/``: the CRVAE, its token embeddings, training
themes        ``themes/``: clustering, phrases, evidence, comparison
report        ``report/``: the HTML pages
entry points  ``pipeline`` (the Summarizer), ``corpus/`` (studies), ``tables`` (the
              tidy exports of either), the package's ``__init__`` (re-exports the
              Summarizer and the export) and ``synthetic`` (demo videos for the CLI
              and the tests: no stage may depend on them)
cli           ``_cli/`` and ``__main__``
============  =====================================================================
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import themescope

PACKAGE = "themescope"
SHARED = {
    "_bundled",
    "_config",
    "_limits",
    "_model_files",
    "_offline",
    "_progress",
    "_atomic",
    "_format",
    "_version",
    "_versioned",
    "components",
    "devices",
    "documents",
    "compare_document",
    "study_documents",
    "schemas",
    "embedding",
    "errors",
    "manifest",
    "registry",
    "rundir",
}
LAYERS: list[tuple[str, set[str]]] = [
    ("shared", SHARED),
    ("media", {"media"}),
    ("model", {"model"}),
    ("themes", {"themes"}),
    ("report", {"report"}),
    ("entry points", {"pipeline", "corpus", "synthetic", "tables", "__init__"}),
    ("cli", {"_cli", "__main__"}),
]
"""Each layer with the top-level modules and subpackages in it, lowest first."""

ALLOWED: set[tuple[str, str]] = set()
"""(importer, imported) pairs exempt from both checks, each with a comment saying why."""


@dataclass(frozen=True)
class Import:
    """One import statement's edge from a module to another module of the package."""

    importer: str
    imported: str
    line: int


def modules(src: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``src``: dotted name → file (a package is its __init__)."""
    found = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(src: Path, package: str) -> Iterator[Import]:
    """Every import from one module of ``package`` to another."""
    known = modules(src, package)
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    # "from . import x" in a package's __init__ is relative to the package itself
                    anchor = name.split(".")[: None if is_package else -1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                # "from pkg import mod" imports the module; "from mod import name" the module
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            else:
                continue
            for target in dict.fromkeys(targets):
                while target not in known and "." in target:
                    target = target.rsplit(".", 1)[0]  # `import a.b.c` when c is an attribute
                if target in known and target != name:
                    yield Import(name, target, node.lineno)


def layer_of(module: str, layers: list[tuple[str, set[str]]]) -> tuple[int, str]:
    """The rank and name of a module's layer, from its name below the package."""
    top = module.split(".")[1] if "." in module else "__init__"
    for rank, (layer, members) in enumerate(layers):
        if top in members:
            return rank, layer
    raise AssertionError(
        f"{module} is in no layer: add {top!r} to LAYERS in tests/test_layers.py, below "
        "every module that imports it and above every module it imports"
    )


def layer_violations(edges: list[Import], layers: list[tuple[str, set[str]]]) -> list[str]:
    """A line for each import of a higher layer by a lower one."""
    found = []
    for edge in edges:
        rank, layer = layer_of(edge.importer, layers)
        imported_rank, imported_layer = layer_of(edge.imported, layers)
        if imported_rank > rank and (edge.importer, edge.imported) not in ALLOWED:
            found.append(
                f"{edge.importer} (line {edge.line}) imports {edge.imported}: "
                f"layer {layer!r} must not import the higher layer {imported_layer!r}"
            )
    return found


def cycles(edges: list[Import]) -> list[str]:
    """One import chain, written ``a -> b -> a``, per group of modules that import each other."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if (edge.importer, edge.imported) not in ALLOWED:
            graph.setdefault(edge.importer, set()).add(edge.imported)
    found = []
    done: set[str] = set()
    for start in sorted(graph):
        # the shortest chain from start back to start, by breadth-first search
        parents: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in parents:
            following = []
            for module in frontier:
                for imported in sorted(graph.get(module, ())):
                    if imported not in parents:
                        parents[imported] = module
                        following.append(imported)
            frontier = following
        if start not in parents:
            continue
        chain = [start]
        while len(chain) == 1 or chain[-1] != start:
            chain.append(parents[chain[-1]])
        if done.isdisjoint(chain):
            found.append(" -> ".join(reversed(chain)))
            done.update(chain)
    return found


def test_no_lower_layer_imports_a_higher_one() -> None:
    src = Path(themescope.__file__).parent.parent
    violations = layer_violations(list(imports(src, PACKAGE)), LAYERS)
    assert not violations, "\n".join(violations)


def test_no_import_cycles() -> None:
    src = Path(themescope.__file__).parent.parent
    found = cycles(list(imports(src, PACKAGE)))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_checks_find_every_form_of_import(tmp_path: Path) -> None:
    """A tiny package with each kind of import, so that the checks are seen to fail."""
    files = {
        "__init__.py": "",
        "errors.py": "from .deep import run\n",  # a shared module imports a higher one
        "low/__init__.py": "",
        "low/a.py": "def f():\n    from ..low import b\n",  # relative, inside a function
        "low/b.py": "import pkg.low.a\n",  # `import x`: a cycle with a
        "deep/__init__.py": "from pkg.low.a import f\n\ndef run(): ...\n",
    }
    for name, text in files.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text, encoding="utf-8")
    layers = [("shared", {"errors"}), ("low", {"low"}), ("deep", {"deep", "__init__"})]
    edges = list(imports(tmp_path, "pkg"))

    assert layer_violations(edges, layers) == [
        "pkg.errors (line 1) imports pkg.deep: layer 'shared' must not import the higher "
        "layer 'deep'"
    ]
    assert cycles(edges) == ["pkg.low.a -> pkg.low.b -> pkg.low.a"]
    with pytest.raises(AssertionError, match=r"^pkg\.new is in no layer: add 'new' to LAYERS"):
        layer_of("pkg.new", layers)
