"""Run the moderator UI alone (``python -m civility.web [DB_URL]``) until ``civility serve``
mounts it beside the API."""

from __future__ import annotations

import sys

import uvicorn

from civility.settings import Settings
from civility.store import Store
from civility.web import create_app


def main(argv: list[str]) -> None:
    settings = Settings.from_sources()
    store = Store.open(argv[0] if argv else settings.database_url)
    uvicorn.run(create_app(settings, store), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main(sys.argv[1:])
