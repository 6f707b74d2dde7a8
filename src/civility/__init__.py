"""civility: a self-hosted moderation engine for news comment sections.

Names load on first use, so ``civility keys list`` or ``civility --help`` do not pay for
importing scikit-learn.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civility.errors import CivilityError
    from civility.policy import Decision, Policy
    from civility.scorer import Scorer, Scores, Span
    from civility.thread import Article, Comment, Thread

try:
    # The one version is pyproject.toml's; an installed package (editable or not) carries it.
    __version__ = version("civility")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Article",
    "CivilityError",
    "Comment",
    "Decision",
    "Policy",
    "Scorer",
    "Scores",
    "Span",
    "Thread",
]

_HOMES = {
    "Article": "civility.thread",
    "CivilityError": "civility.errors",
    "Comment": "civility.thread",
    "Decision": "civility.policy",
    "Policy": "civility.policy",
    "Scorer": "civility.scorer",
    "Scores": "civility.scorer",
    "Span": "civility.scorer",
    "Thread": "civility.thread",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'civility' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
