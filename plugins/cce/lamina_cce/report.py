"""Writing an experiment's results: a markdown table (for the README) and a CSV beside it."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        raise ValueError("no rows to write")
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", newline="") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_table(rows: list[dict], path: Path, *, header: str = "") -> Path:
    """``path`` (``.md``) gets ``header`` + the table; ``path.with_suffix('.csv')`` the same rows as CSV."""
    _atomic_write(path, (header.rstrip() + "\n\n" if header else "") + markdown_table(rows))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".csv.")
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path.with_suffix(".csv"))
    return path
