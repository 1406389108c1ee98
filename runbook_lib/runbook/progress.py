"""Progress bars that read well in a terminal, in a notebook and in an HTML report."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

__all__ = ["bar"]

T = TypeVar("T")


def bar(iterable: Iterable[T] | None = None, **kwargs: Any) -> tqdm[T]:
    """A plain-text tqdm bar on stdout: no ipywidgets needed in Jupyter (tqdm.auto warns without them),
    nothing on stderr to look like an error, and the report keeps its final state."""
    return tqdm(iterable, file=sys.stdout, **kwargs)
