"""One process for staff and the intranet: the JSON API under /api, the Gradio UI at /."""

from __future__ import annotations

import re

import uvicorn
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.routing import Mount

from ingest.service import Styrdok
from rag.settings import Settings
from rag.store.catalog import CatalogDetached
from rag.store.integrity import CatalogIntegrityError, verify_catalog
from web.api import create_api
from web.event_loops import closing_gradio_event_loops
from web.feedback import FeedbackStore
from web.gaps import GapLog
from web.limits import GradioGate, RateLimit
from web.ui import mount_ui
from web.uploads import clear_staging


def create_app(settings: Settings | None = None, service: Styrdok | None = None) -> FastAPI:
    """The app over `service` (or a new one built from `settings`).

    Refuses (CatalogIntegrityError) a catalog that is damaged or went backwards."""
    service = service or Styrdok(settings or Settings())
    verify_catalog(service.store.catalog)
    clear_staging(service)
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
    limits = service.settings
    app.add_middleware(RateLimit, prefix="/api", rate=limits.rate_limit_per_s,
                       burst=limits.rate_limit_burst)
    app.add_middleware(GradioGate, max_bytes=limits.max_upload_mb * 1024 * 1024,
                       mb_per_hour=limits.ui_upload_mb_per_hour)
    with closing_gradio_event_loops():
        return mount_ui(app, service, feedback, gaps)


def serve(settings: Settings | None = None) -> None:
    """Serve on settings.host:port until interrupted (`styrdok serve`, `make run`)."""
    settings = settings or Settings()
    try:
        app = create_app(settings)
    except (CatalogIntegrityError, CatalogDetached) as error:
        raise SystemExit(f"Styrdok startar inte: {error}") from None
    uvicorn.run(app, host=settings.host, port=settings.port,
                log_level=settings.log_level.lower(), access_log=False)
