"""One process for staff and the intranet: the JSON API under /api, the Gradio UI at /."""

from __future__ import annotations

import re

import uvicorn
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.routing import Mount

from ingest.service import Styrdok
from rag.settings import Settings
from web.api import create_api
from web.feedback import FeedbackStore
from web.gaps import GapLog
from web.ui import mount_ui


def create_app(settings: Settings | None = None, service: Styrdok | None = None) -> FastAPI:
    """The app over `service` (or a new one built from `settings`)."""
    service = service or Styrdok(settings or Settings())
    settings = service.settings
    feedback = FeedbackStore(settings.feedback_path, settings.feedback_retention_days)
    gaps = GapLog(settings.feedback_path, settings.feedback_retention_days)
    app = FastAPI(title="Styrdok", docs_url=None, redoc_url=None, openapi_url=None)
    api = Mount("/api", app=create_api(service, feedback, gaps))
    # Every /api path, even one with an encoded newline, must reach the API and its JSON errors
    # rather than fall through to the UI mounted at / (Starlette's pattern stops at newlines).
    api.path_regex = re.compile(api.path_regex.pattern, re.DOTALL)
    app.router.routes.append(api)
    app.add_api_route("/api", lambda: RedirectResponse("/api/docs"), include_in_schema=False)
    return mount_ui(app, service, feedback, gaps)


def serve(settings: Settings | None = None) -> None:
    """Serve on settings.host:port until interrupted (`styrdok serve`, `make run`)."""
    settings = settings or Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level.lower(), access_log=False)
