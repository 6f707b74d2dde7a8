"""The package's shape: its public surface, its import layering, its documented settings."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import civility
from civility.settings import SETTINGS, Settings

SRC = Path(civility.__file__).parent
# The layers docs/architecture.md draws: the core, and the doors that offer it.
CORE = {
    "adapt",
    "adapted",
    "attributes",
    "errors",
    "highlight",
    "ingest",
    "language",
    "model",
    "moderate",
    "policy",
    "scorer",
    "settings",
    "text",
    "thread",
}
DOORS = {"store", "api", "web", "batch", "train", "cli", "report"}
# Which doors a door may import, as DESIGN.md's layout table says.
ALLOWED_DOORS = {
    "api": {"store", "report"},
    "web": {"api", "store", "report"},
    "cli": DOORS,
    "train": set(),
    "batch": set(),
    "store": set(),
    "report": set(),
}


def _top(module_path: Path) -> str:
    rel = module_path.relative_to(SRC).with_suffix("")
    return rel.parts[0]


def _imported_modules(path: Path) -> set[str]:
    """Every ``civility`` module ``path`` imports, dotted, at any depth of the file:
    ``import civility.x``, ``from civility.x import y`` and ``from civility import x`` (which
    names the module ``civility.x`` when x is one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "civility":
                found.update(f"civility.{alias.name}" for alias in node.names)
            elif node.module.startswith("civility."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("civility."))
    return found


def _imports(path: Path) -> set[str]:
    """The top-level parts of civility that ``path`` imports (``store``, ``scorer``, ...)."""
    return {name.split(".")[1] for name in _imported_modules(path)}


def test_the_layout_test_sees_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import civility.api\nfrom civility.store import Store\nfrom civility import report\n"
        "def f():\n    from civility.batch._local import run_local\n",
        encoding="utf-8",
    )
    assert _imports(module) == {"api", "store", "report", "batch"}


def test_every_part_of_the_package_is_placed_in_a_layer() -> None:
    parts = {_top(p) for p in SRC.rglob("*.py")} - {"__init__"}
    assert parts - CORE - DOORS == set()


def test_outside_a_package_only_its_public_names_are_imported() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        for name in _imported_modules(path):
            parts = name.split(".")
            private = next((k for k, part in enumerate(parts) if part.startswith("_")), None)
            if private is None:
                continue
            owner = ".".join(parts[:private])  # the package whose private module this is
            inside = path.is_relative_to(SRC.joinpath(*parts[1:private]))
            if not inside:
                offenders.append(f"{path.relative_to(SRC)} imports {name} (private to {owner})")
    assert offenders == []


def test_public_surface_is_a_short_sorted_list() -> None:
    assert civility.__all__ == sorted(civility.__all__)
    for name in civility.__all__:
        assert hasattr(civility, name), name


def test_core_never_imports_a_door() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if _top(path) in CORE:
            bad = _imports(path) & DOORS
            if bad:
                offenders.append(f"{path.relative_to(SRC)} imports {sorted(bad)}")
    assert offenders == []


def test_doors_import_only_the_doors_the_design_allows() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        door = _top(path)
        if door in ALLOWED_DOORS:
            bad = (_imports(path) & DOORS) - ALLOWED_DOORS[door] - {door}
            if bad:
                offenders.append(f"{path.relative_to(SRC)} imports {sorted(bad)}")
    assert offenders == []


def test_every_setting_is_documented_and_matches_the_dataclass() -> None:
    names = [s.name for s in SETTINGS]
    assert names == [f for f in Settings.__dataclass_fields__]
    for s in SETTINGS:
        assert s.help.strip(), s.name
        assert getattr(Settings(), s.name) == s.default, s.name
    readme = (SRC.parent.parent / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


def test_every_bounded_setting_is_refused_outside_its_range_in_one_line() -> None:
    import math

    import pytest

    from civility.errors import InvalidInput

    table = (SRC.parent.parent / "docs" / "settings.md").read_text(encoding="utf-8")
    for s in SETTINGS:  # the "allowed" column, empty for a setting without bounds
        row = next(line for line in table.splitlines() if line.startswith(f"| `{s.name}` |"))
        assert row.endswith(f"| {s.range_text()} |"), s.name
    bounded = [s for s in SETTINGS if s.bounds is not None]
    assert {s.name for s in bounded} >= {"port", "workers", "retention_days", "teach_fair_share"}
    for s in bounded:
        assert s.allows(s.default), s.name
        low, high = s.bounds  # type: ignore[misc]
        outside = (
            [low - 1] + ([] if math.isinf(high) else [high + 1]) + ([low] if s.low_open else [])
        )
        for value in outside:
            text = str(int(value)) if isinstance(s.default, int) else str(value)
            with pytest.raises(InvalidInput) as caught:
                Settings.from_sources(environ={f"CIVILITY_{s.name.upper()}": text})
            message = str(caught.value)
            assert message.startswith(f"Setting '{s.name}' must be "), message
            assert "\n" not in message
        inside = high if not math.isinf(high) else low + (0 if not s.low_open else 1)
        text = str(int(inside)) if isinstance(s.default, int) else str(inside)
        assert getattr(
            Settings.from_sources(environ={f"CIVILITY_{s.name.upper()}": text}), s.name
        ) == type(s.default)(inside)
    with pytest.raises(
        InvalidInput, match=r"^Setting 'port' must be between 0 and 65535\. Got 70000\.$"
    ):
        Settings.from_sources(overrides={"port": 70000})
    with pytest.raises(
        InvalidInput, match=r"^Setting 'retention_days' must be at least 0\. Got -3\.$"
    ):
        Settings.from_sources(environ={"CIVILITY_RETENTION_DAYS": "-3"})
    with pytest.raises(
        InvalidInput,
        match=r"^Setting 'adapt_max_source_share' must be above 0 and at most 1\. Got 0\.0\.$",
    ):
        Settings.from_sources(environ={"CIVILITY_ADAPT_MAX_SOURCE_SHARE": "0"})


def test_settings_come_from_file_then_environment_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "civility.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\nrequire_key = false\n', encoding="utf-8")
    s = Settings.from_sources(config, environ={"CIVILITY_PORT": "9100"}, overrides={"workers": 2})
    assert (s.host, s.port, s.workers, s.require_key) == ("0.0.0.0", 9100, 2, False)


def test_relative_paths_in_a_config_file_are_relative_to_the_file(
    tmp_path: Path, monkeypatch: Any
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    config = folder / "civility.toml"
    config.write_text(
        'database_url = "sqlite:///data/civility.db?timeout=5"\npolicy_file = "policy.toml"\nmodel_dir = "/opt/model"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    s = Settings.from_sources(config, environ={})
    assert s.database_url == f"sqlite:///{folder / 'data' / 'civility.db'}?timeout=5"
    assert s.policy_file == str(folder / "policy.toml")
    assert s.model_dir == "/opt/model"
    # From the environment a relative path stays relative to the working directory.
    s = Settings.from_sources(config, environ={"CIVILITY_DATABASE_URL": "sqlite:///here.db"})
    assert s.database_url == "sqlite:///here.db"
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        f"sqlite:///{tmp_path}/abs.db",
        "postgresql+psycopg://u@h/db",
    ):
        config.write_text(f'database_url = "{url}"\n', encoding="utf-8")
        assert Settings.from_sources(config, environ={}).database_url == url


def test_a_malformed_setting_names_the_setting_and_the_value() -> None:
    import pytest

    from civility.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"^Setting 'port' must be an integer\. Got 'many'\.$"):
        Settings.from_sources(environ={"CIVILITY_PORT": "many"})


def test_the_version_is_written_once_in_pyproject_and_read_from_package_metadata() -> None:
    import importlib.metadata
    import tomllib

    import civility

    pyproject = tomllib.loads((SRC.parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    version = pyproject["project"]["version"]
    assert civility.__version__ == importlib.metadata.version("civility") == version
    written = [p for p in SRC.rglob("*.py") if f'"{version}"' in p.read_text(encoding="utf-8")]
    assert written == []
