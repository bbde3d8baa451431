"""Pausing Python's cycle collector around work that allocates many small acyclic objects.

Loading, folding and rendering a 10,000-step run creates millions of short-lived containers; the
collector's passes find no cycles in them and cost up to half the time (the converter does the
same, see `convert._gc_paused`). Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
