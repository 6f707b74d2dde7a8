"""`civility serve` answers the API and the moderator UI from one process, on the database
that `civility import` and `civility users` write to."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from api_support import Subprocess

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "southfront-syria-comments.txt"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.mark.slow
def test_one_server_process_serves_the_perspective_api_and_the_queue(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'civility.db'}"
    with Subprocess(tmp_path, {"database_url": db}) as live:
        made = live.cli("users", "create", "mo", "--password", "mo-password-1")
        assert made.returncode == 0, made.stderr
        imported = live.cli("import", str(EXAMPLE), "--site", "southfront", "--db", db)
        assert imported.returncode == 0, imported.stderr
        key = live.cli("keys", "create", "tests").stdout.strip()

        analyzed = httpx.post(
            f"{live.base}/v1alpha1/comments:analyze?key={key}",
            json={"comment": {"text": "You are an idiot"}, "requestedAttributes": {"INSULT": {}}},
            timeout=30,
        )
        assert analyzed.status_code == 200, analyzed.text
        assert 0 <= analyzed.json()["attributeScores"]["INSULT"]["summaryScore"]["value"] <= 1

        with httpx.Client(base_url=live.base, timeout=30) as ui:
            form = ui.get("/login")
            assert form.status_code == 200
            token = CSRF_RE.search(form.text)
            assert token is not None
            ui.post(
                "/login",
                data={"username": "mo", "password": "mo-password-1", "csrf_token": token[1]},
            )
            queue = ui.get("/queue")
            assert queue.status_code == 200
            # The imported page's held comments are in the queue, worst first.
            assert "Southtard" in queue.text or "pussies" in queue.text
            assert httpx.get(f"{live.base}/healthz").status_code == 200
