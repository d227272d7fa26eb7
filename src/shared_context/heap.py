"""Process-level runtime settings for a long-running server: the event loop and the
garbage collector.

Event loop: uvloop when installed (a dependency on every platform it supports), else asyncio's
own. With httptools as uvicorn's HTTP parser (picked by uvicorn's ``http="auto"`` when it is
installed) it took single-agent server CPU per call from ~3.8 to ~3.1 ms (issue 15).

Collector:
CPython's default thresholds (700, 10, 10) run a young collection every 700 net allocations.
With 200 calls in flight, every young collection finds the objects of all of them alive
(suspended at an ``await``) and promotes them; they die soon after, but only a full collection
frees them, and full collections walk every object of the process, including the ~150,000 of
the imported framework. Measured under the 200-agent mixed workload (issue 15): 7.7 s of the
server's 23 s of CPU was the collector (5.9 s in 39 full collections).

``settle`` (once, after start-up) moves what exists into the permanent generation
(``gc.freeze``: never walked again) and raises the young threshold, so request-scoped objects
mostly die before any collection sees them: the collector's share fell to ~1 s. Cycles are
still collected; the young generation just holds up to ``YOUNG`` objects between passes.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import importlib.util
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: Net allocations between young collections (default 700).
YOUNG = 20_000
#: Young collections per middle one, middle per full (defaults 10, 10).
MIDDLE = 20
OLD = 20


def settle() -> tuple[int, int, int]:
    """Freeze the start-up heap and set the thresholds; returns the previous thresholds."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    return previous


def unsettle(previous: tuple[int, int, int]) -> None:
    """Undo ``settle`` (for a caller that is not the whole process, e.g. ``scs bench`` under a
    test runner)."""
    gc.unfreeze()
    gc.set_threshold(*previous)


def loop_name() -> str:
    """The event loop ``run`` uses: ``uvloop`` when it is installed, else ``asyncio``."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


#: glibc malloc arenas (default 8 per core): the database threads each took their own, and
#: what the peak of a 200-agent run left in them stayed resident (issue 15: RSS after the
#: 200-agent phase 168-191 MB with the default, 157-166 MB with 2, same code and machine).
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas; best effort (False where libc is not glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the fastest event loop available, with malloc arenas capped before
    any thread starts."""
    limit_malloc_arenas()
    if loop_name() == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
