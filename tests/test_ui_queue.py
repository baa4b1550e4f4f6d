"""The UI's Gradio queue: no per-event statistics work (`web/__init__.py`)."""

from __future__ import annotations

import gradio as gr

from web.event_loops import closing_gradio_event_loops


def test_the_queue_builds_no_statistics_after_an_event() -> None:
    """Gradio rebuilt a pandas table of past events after every event, with calls pandas 3
    deprecates: as errors in the queue's worker they aborted a streaming event and hung a
    browser test. Under the suite's warnings-as-errors this raised before."""
    with closing_gradio_event_loops():  # importing web sets what the queue reads
        queue = gr.Blocks().queue()._queue
    queue.events_recorded = 5
    summary = queue.compute_analytics_summary(
        [{"function": "ask", "status": "success", "process_time": 0.1}])
    assert summary == {"functions": {}}
