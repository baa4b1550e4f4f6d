"""Close the event loops Gradio makes while a UI is built.

Gradio's `safe_get_lock()` / `safe_get_stop_event()` create a new asyncio event loop (and set
it as the thread's loop) whenever a Blocks is built outside a running loop, and never close
it; each one then leaks a self-pipe socket pair until the garbage collector complains. The
asyncio primitives Gradio made bind to whichever loop runs them later (Python >= 3.10), so the
loops themselves are not needed once the UI exists.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gradio import utils as gradio_utils


@contextmanager
def closing_gradio_event_loops() -> Iterator[None]:
    made: list[asyncio.AbstractEventLoop] = []
    original = asyncio.new_event_loop
    builder = threading.get_ident()

    def tracked() -> asyncio.AbstractEventLoop:
        loop = original()
        if threading.get_ident() == builder:  # another thread's loop is none of our business
            made.append(loop)
        return loop

    gradio_utils.asyncio.new_event_loop = tracked  # type: ignore[attr-defined]
    try:
        yield
    finally:
        gradio_utils.asyncio.new_event_loop = original  # type: ignore[attr-defined]
        for loop in made:
            if not loop.is_running() and not loop.is_closed():
                loop.close()
        if made:
            asyncio.set_event_loop(None)
