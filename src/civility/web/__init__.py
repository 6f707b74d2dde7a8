"""The moderator UI: log in, work the queue of held comments worst first, see threads, the
audit log, users and per-site policies. Server-rendered Jinja2 with a little htmx."""

from civility.web._app import create_app

__all__ = ["create_app"]
