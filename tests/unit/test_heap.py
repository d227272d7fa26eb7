"""The collector settings a server process runs with (shared_context/heap.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from shared_context import heap


def test_settle_freezes_the_start_up_heap_and_raises_the_thresholds() -> None:
    # In a fresh interpreter: the test process's own collector stays as it is.
    code = (
        "import gc, json; from shared_context import heap; "
        "before = heap.settle(); after = [gc.get_threshold(), gc.get_freeze_count()]; "
        "heap.unsettle(before); "
        "print(json.dumps([before, *after, gc.get_threshold(), gc.get_freeze_count()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    before, after, frozen, restored, still_frozen = json.loads(out.stdout)
    assert before == [700, 10, 10]
    assert after == [heap.YOUNG, heap.MIDDLE, heap.OLD]
    assert frozen > 1000
    assert restored == before and still_frozen == 0


def test_run_uses_uvloop_when_installed() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    assert heap.loop_name() == "uvloop"  # a dependency of the project on this platform
    assert heap.run(loop_module()) == "uvloop"


def test_malloc_arenas_are_capped_on_glibc() -> None:
    import platform

    if platform.libc_ver()[0] != "glibc":
        assert heap.limit_malloc_arenas() in (True, False)
        return
    assert heap.limit_malloc_arenas()
