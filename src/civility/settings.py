"""Every setting in one place: name, default, help. Doors read them once and pass them down."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from civility.errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    # The least and most a number may be (both allowed; ``math.inf``: no most); ``None``: any.
    bounds: tuple[float, float] | None = None
    # The least itself is not allowed (a share that must be above 0).
    low_open: bool = False

    def allows(self, value: float) -> bool:
        if self.bounds is None:
            return True
        low, high = self.bounds
        return (low < value if self.low_open else low <= value) and value <= high

    def range_text(self) -> str:
        """The bounds in words ("between 0 and 1", "at least 1", "above 0 and at most 1"; ""
        when there are none), as docs/settings.md's "allowed" column shows them."""
        if self.bounds is None:
            return ""
        low, high = self.bounds
        if self.low_open:
            return f"above {low:g}" + ("" if math.isinf(high) else f" and at most {high:g}")
        return f"at least {low:g}" if math.isinf(high) else f"between {low:g} and {high:g}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "sqlite:///civility.db",
        "SQLAlchemy URL of the store (SQLite file or postgresql+psycopg://...).",
    ),
    Setting(
        "model_dir",
        "",
        "Directory of a model artifact; empty means the one shipped in the package.",
    ),
    Setting("policy_file", "", "TOML policy file; empty means the default policy."),
    Setting("host", "127.0.0.1", "Address the server listens on."),
    Setting("port", 8080, "Port the server listens on (0: any free port).", bounds=(0, 65535)),
    Setting("workers", 1, "Server worker processes.", bounds=(1, math.inf)),
    Setting(
        "rate_limit_per_minute",
        600,
        "Requests per minute allowed per API key (0 = unlimited).",
        bounds=(0, math.inf),
    ),
    Setting(
        "max_body_bytes",
        1_048_576,
        "Largest request body the server accepts.",
        bounds=(1, math.inf),
    ),
    Setting(
        "cors_origins", "", "Comma-separated origins allowed by CORS; empty means CORS is off."
    ),
    Setting(
        "store_comments", True, "Keep analysed comment text (never when a request says doNotStore)."
    ),
    Setting(
        "retention_days",
        30,
        "Days stored comment text is kept before it is purged.",
        bounds=(0, math.inf),
    ),
    Setting(
        "log_comment_text", False, "Write comment text into logs (off by default for privacy)."
    ),
    Setting("require_key", True, "Require an API key on the Perspective-compatible API."),
    Setting("secret_key", "", "Secret that signs session cookies; generated at start when empty."),
    Setting(
        "adapt_min_labels",
        50,
        "Labels of an attribute a site needs before its adapter for it is fitted at all.",
        bounds=(1, math.inf),
    ),
    Setting(
        "adapt_max_source_share",
        0.5,
        "Largest share of a site's labels one moderator or API key may hold in its adapter.",
        bounds=(0.0, 1.0),
        low_open=True,
    ),
    Setting(
        "adapt_floor_margin",
        0.05,
        "Most an adapter may lower THREAT and SEVERE_TOXICITY (or any score of a severe text).",
        bounds=(0.0, 1.0),
    ),
    Setting(
        "adapt_retrain_every",
        50,
        "New labels of a site that trigger a retraining of its adapter in the background.",
        bounds=(1, math.inf),
    ),
    Setting(
        "teach_fair_share",
        0.5,
        "Share of the review-to-teach view's comments drawn at random instead of by priority "
        "(the fair sample an adapter's activation is checked on).",
        bounds=(0.0, 1.0),
    ),
)

ENV_PREFIX = "CIVILITY_"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with ``Settings.from_sources``."""

    database_url: str = "sqlite:///civility.db"
    model_dir: str = ""
    policy_file: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    rate_limit_per_minute: int = 600
    max_body_bytes: int = 1_048_576
    cors_origins: str = ""
    store_comments: bool = True
    retention_days: int = 30
    log_comment_text: bool = False
    require_key: bool = True
    secret_key: str = ""
    adapt_min_labels: int = 50
    adapt_max_source_share: float = 0.5
    adapt_floor_margin: float = 0.05
    adapt_retrain_every: int = 50
    teach_fair_share: float = 0.5

    @classmethod
    def from_sources(
        cls,
        config_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Settings:
        """Defaults, then a TOML file, then ``CIVILITY_*`` variables, then explicit overrides.

        Relative paths written in the file (``model_dir``, ``policy_file``, a SQLite
        ``database_url``) are relative to the file's own folder, whatever the working
        directory; those from the environment or overrides are relative to the working
        directory."""
        import tomllib

        values: dict[str, Any] = {}
        if config_file is not None:
            try:
                values.update(tomllib.loads(config_file.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise InvalidInput(f"Config file {config_file} is unreadable: {exc}") from exc
            _anchor_paths(values, config_file.resolve().parent)
        env = os.environ if environ is None else environ
        for s in SETTINGS:
            key = ENV_PREFIX + s.name.upper()
            if key in env:
                values[s.name] = env[key]
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise InvalidInput(f"Unknown settings: {', '.join(sorted(unknown))}.")
        coerced = {k: _coerce(k, v, type(getattr(cls, k))) for k, v in values.items()}
        for s in SETTINGS:
            if s.name in coerced and not s.allows(coerced[s.name]):
                raise InvalidInput(
                    f"Setting '{s.name}' must be {s.range_text()}. Got {coerced[s.name]!r}."
                )
        return cls(**coerced)


def _anchor_paths(values: dict[str, Any], base: Path) -> None:
    """Make the relative paths among ``values`` (as read from a config file) relative to ``base``."""
    for name in ("model_dir", "policy_file"):
        value = values.get(name)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            values[name] = str(base / value)
    url = values.get("database_url")
    if isinstance(url, str):
        values["database_url"] = _anchor_sqlite(url, base)


def _anchor_sqlite(url: str, base: Path) -> str:
    """A SQLite URL whose file path is relative, made relative to ``base``; any other URL as is."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # reported when the store opens it
    database = parsed.database
    if (
        not parsed.drivername.startswith("sqlite")
        or not database
        or database == ":memory:"
        or database.startswith("file:")
        or Path(database).is_absolute()
    ):
        return url
    return parsed.set(database=str(base / database)).render_as_string(hide_password=False)


def _coerce(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise InvalidInput(f"Setting '{name}' must be true or false. Got {value!r}.")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise InvalidInput(f"Setting '{name}' must be an integer. Got {value!r}.") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise InvalidInput(f"Setting '{name}' must be a number. Got {value!r}.") from None
    return text
