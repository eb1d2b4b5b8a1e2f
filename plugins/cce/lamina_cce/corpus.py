"""An offline, real English+code corpus on every machine: the Python standard library's documentation.

Two sources, both shipped with every CPython: the docstrings of the standard library's modules (read with ``ast``
from the source files, so nothing is imported or executed) and the language reference topics in
``pydoc_data.topics`` (the text behind ``help('for')``). About 2 MB of text on CPython 3.11.
"""

from __future__ import annotations

import ast
import sysconfig
from collections.abc import Iterator
from pathlib import Path

# Folders of the standard library that hold test suites, vendored packages or demo code rather than documentation.
SKIPPED_PARTS = frozenset({"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"})


def stdlib_directory() -> Path:
    """Where this interpreter's standard-library sources live."""
    directory = Path(sysconfig.get_paths()["stdlib"])
    if not (directory / "os.py").is_file():
        raise FileNotFoundError(
            f"no standard-library sources in {directory} (os.py missing); this Python was installed without its "
            ".py files. Use `data.files=...` with your own text instead."
        )
    return directory


def module_docstrings(path: Path, root: Path) -> str | None:
    """One document per module: its docstring, then each class's and function's, under their qualified names."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
    parts: list[str] = []
    doc = ast.get_docstring(tree)
    if doc:
        parts.append(f"{module}\n\n{doc}")

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}.{child.name}"
                text = ast.get_docstring(child)
                if text:
                    parts.append(f"{name}\n\n{text}")
                if isinstance(child, ast.ClassDef):
                    visit(child, name)

    visit(tree, module)
    return "\n\n".join(parts) if parts else None


def stdlib_documents() -> Iterator[str]:
    root = stdlib_directory()
    for path in sorted(root.rglob("*.py")):
        if SKIPPED_PARTS.intersection(path.relative_to(root).parts):
            continue
        text = module_docstrings(path, root)
        if text:
            yield text


def reference_topics() -> Iterator[str]:
    """The language reference sections that ``help()`` shows, one document per topic."""
    from pydoc_data.topics import topics

    for name in sorted(topics):
        yield topics[name].strip()


def python_reference_corpus(
    include_docstrings: bool = True, include_reference: bool = True
) -> list[dict[str, str]]:
    """The corpus as ``[{"text": ...}]`` records in a fixed order (a ``corpus=`` target for ``TextDataModule``)."""
    if not (include_docstrings or include_reference):
        raise ValueError(
            "python_reference_corpus: enable at least one of include_docstrings / include_reference."
        )
    documents: list[str] = []
    if include_docstrings:
        documents.extend(stdlib_documents())
    if include_reference:
        documents.extend(reference_topics())
    return [{"text": text} for text in documents]
