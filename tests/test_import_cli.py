"""``civility users create`` and ``civility import`` on a real database."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import run_cli
from typer.testing import CliRunner

from civility.cli import app
from civility.store import Store, authenticate, list_users

EXAMPLE = Path(__file__).parent.parent / "examples" / "southfront-syria-comments.txt"


def test_users_create_reads_the_password_from_stdin_and_makes_an_admin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    result = CliRunner().invoke(
        app, ["users", "create", "ada", "--admin", "--db", url], input="correct horse battery\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'ada'." in result.output
    store = Store.open(url)
    assert authenticate(store, "ada", "correct horse battery", "127.0.0.1").is_admin
    assert [(u.name, u.role) for u in list_users(store)] == [("ada", "admin")]


def test_a_duplicate_user_is_a_one_line_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    cmd = ("users", "create", "mo", "--password", "long-enough", "--db", url)
    assert run_cli(*cmd).returncode == 0
    again = run_cli(*cmd)
    assert again.returncode == 2
    assert again.stderr.strip() == "Error: User 'mo' already exists."


def test_importing_the_example_page_twice_adds_nothing(tmp_path: Path) -> None:
    page = shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(page), "--db", url, "--site", "southfront"])
    assert first.exit_code == 0, first.output
    added = int(re.search(r"(\d+) comments added, 0 already present", first.output).group(1))
    assert added > 0
    second = runner.invoke(app, ["import", str(page), "--db", url, "--site", "southfront"])
    assert f"0 comments added, {added} already present" in second.output


@pytest.mark.slow
def test_serve_with_an_unusable_database_stops_with_one_line_before_listening(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-dir" / "c.db"
    cmd = [sys.executable, "-m", "civility.cli", "serve", "--port", "0", "--workers", "2"]
    env = {"PATH": "/usr/bin:/bin", "CIVILITY_DATABASE_URL": f"sqlite:///{missing}"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == f"Error: Database directory does not exist: {missing.parent}"
    assert "Uvicorn running" not in done.stdout + done.stderr
