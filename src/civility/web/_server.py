"""One process for everything HTTP: the API routes first, the moderator UI mounted at ``/``."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Match

from civility.api import create_app as create_api_app
from civility.settings import Settings
from civility.store import SqlStorage, Store
from civility.web._app import create_app as create_ui_app

# Paths that belong to the API: what is not found under them gets the API's error body,
# never the UI's pages.
API_PREFIXES = ("/v1alpha1", "/api", "/$discovery")
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_server_app(settings: Settings) -> Any:
    """The API app with the UI mounted under it; API paths win because they are routed first."""
    store = Store.open(settings.database_url)  # one engine for the API and the UI
    app = create_api_app(settings, storage=SqlStorage(store))
    api_routes = list(app.router.routes)

    async def api_not_found(request: Request) -> None:
        wrong_method = any(r.matches(request.scope)[0] is Match.PARTIAL for r in api_routes)
        raise HTTPException(405 if wrong_method else 404)

    for prefix in API_PREFIXES:
        app.add_route(
            prefix + "/{rest:path}", api_not_found, methods=_METHODS, include_in_schema=False
        )
    app.add_route("/batch", api_not_found, methods=_METHODS, include_in_schema=False)
    # The UI retrains site adapters and ranks its teach view with the API's scorer: one model
    # per worker process.
    app.mount("/", create_ui_app(settings, store, scorer=app.state.service.scorer))
    return app


def app_from_environment() -> Any:
    """uvicorn's factory, once per worker: settings arrive as ``CIVILITY_*`` variables."""
    return create_server_app(Settings.from_sources())
