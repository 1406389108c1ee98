"""Notebooks go into git without outputs (papermill's fixtures, nbdev's clean_nb): clean and check."""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = ["check", "clean", "dirty_cells", "find"]


def dirty_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indexes of code cells that carry outputs or an execution count."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]


def clean(path: Path) -> bool:
    """Strip outputs and execution counts in place; True when the file changed."""
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    if not dirty_cells(nb):
        return False
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, path)  # type: ignore[no-untyped-call]
    return True


def find(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return found


def check(paths: list[Path]) -> list[str]:
    """One line per notebook that is not clean (empty when all are)."""
    problems = []
    for path in find(paths):
        nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        cells = dirty_cells(nb)
        if cells:
            problems.append(f"{path}: outputs in cells {cells}; run `make clean-notebooks` before committing")
    return problems
