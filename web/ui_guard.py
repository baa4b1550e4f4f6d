"""What the mounted Gradio UI may touch: only files a client uploaded to Gradio's own folder.

Gradio checks every file path in an event payload (`processing_utils._check_allowed`) only
once the Blocks count as launched, and `gr.mount_gradio_app` never marks them so: mounted,
a client could name any server path (`/dev/zero`, the catalog, `/etc/passwd`) and Gradio
would hash and copy it. `harden` turns the check on and gives it a block list, so event
inputs must lie in Gradio's upload folder and never in the data dir, the checkout, the
working dir, the home dir, `/dev`, `/proc`, `/sys` or `/etc`. (Gradio reads
GRADIO_ALLOWED_PATHS/GRADIO_BLOCKED_PATHS only in `launch()`, so mounted they are ignored:
the lists here are the whole truth.)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from rag.settings import Settings

log = logging.getLogger(__name__)
CHECKOUT = Path(__file__).resolve().parents[1]
SYSTEM_DIRS = (Path("/dev"), Path("/proc"), Path("/sys"), Path("/etc"), Path("/root"),
               Path("/var"), Path("/boot"), Path("/run"))


def upload_folder() -> Path:
    """Where Gradio keeps client uploads (GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    return Path(get_upload_folder()).resolve()


def blocked_paths(settings: Settings) -> list[str]:
    """Directories Gradio must never read, minus any that holds its own upload folder."""
    uploads = upload_folder()
    candidates = [settings.data_dir, CHECKOUT, Path.cwd(), Path.home(), *SYSTEM_DIRS]
    blocked: list[str] = []
    for candidate in candidates:
        path = Path(os.path.abspath(candidate)).resolve()
        if uploads.is_relative_to(path):
            log.warning("not blocking %s for the UI: Gradio's upload folder %s is inside it "
                        "(set GRADIO_TEMP_DIR elsewhere)", path, uploads)
            continue
        if str(path) not in blocked:
            blocked.append(str(path))
    return blocked


def is_client_upload(path: str | Path) -> bool:
    """A file in Gradio's upload folder (what an event input may legitimately name)."""
    resolved = Path(os.path.abspath(path)).resolve()
    return resolved.is_relative_to(upload_folder()) and resolved.is_file()


def harden(blocks: gr.Blocks, settings: Settings) -> None:
    """Turn Gradio's own path check on for a mounted app, with our block list."""
    blocks.allowed_paths = []
    blocks.blocked_paths = blocked_paths(settings)
    # `_check_allowed` returns early unless the Blocks count as launched; mounted, they never
    # do. Nothing else in Gradio 6 reads this flag (checked against the pinned version).
    blocks.has_launched = True
