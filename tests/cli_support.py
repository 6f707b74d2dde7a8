"""Run ``civility`` in process, as its entry point ``civility.cli:main`` runs: typer's
``CliRunner`` isolation (stdin, stdout, stderr, environment), the exit code ``main`` gives."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from typer.testing import CliRunner

from civility import cli


@dataclass(frozen=True)
class Done:
    """What a finished command left: the fields of ``subprocess.CompletedProcess`` tests read."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None, columns: int = 160
) -> Done:
    """``civility ARGS`` through ``main()`` on a terminal ``columns`` wide (what ``COLUMNS``
    gives a process; rich reads it once, when the module's consoles are made); no
    ``CIVILITY_*`` variable of the caller leaks in."""
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CIVILITY_")}
    overrides.update(env or {})
    runner = CliRunner()
    argv, width, err_width = sys.argv, cli.console.width, cli.err_console.width
    cli.console.width = cli.err_console.width = columns
    with runner.isolation(input=stdin, env=overrides) as (out, err, _):
        sys.argv = ["civility", *args]
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = argv
            cli.console.width, cli.err_console.width = width, err_width
        sys.stdout.flush()
        sys.stderr.flush()
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "replace")
    return Done(code, stdout, stderr)
