"""A killed import loses nothing it committed, and a re-run finishes it without duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import store_fixtures
from store_fixtures import make_thread, write_jsonl

from civility.store import Store
from civility.store._models import CommentRow, DecisionRow, ScoreRow

db_url = store_fixtures.db_url
TOTAL = 60
CHUNK = 4


def _counts(url: str) -> tuple[int, int, int, int]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            n = [
                conn.scalar(sa.select(sa.func.count()).select_from(m)) or 0
                for m in (CommentRow.__table__, ScoreRow.__table__, DecisionRow.__table__)
            ]
            keys = conn.scalar(sa.select(sa.func.count(sa.distinct(CommentRow.key)))) or 0
        return n[0], n[1], n[2], keys
    finally:
        engine.dispose()


def _run(url: str, path: Path) -> subprocess.Popen[str]:
    """``civility import`` in a child process of its own."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [
        "-m",
        "civility.cli",
        "import",
        str(path),
        "--db",
        url,
        "--site",
        "big",
        "--chunk-size",
        str(CHUNK),
    ]
    return subprocess.Popen(
        [sys.executable, *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigkill_mid_import_keeps_committed_chunks_and_rerun_completes(
    db_url: str, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", make_thread(TOTAL))
    Store.open(db_url).close()
    child = _run(db_url, path)
    deadline = time.monotonic() + 60
    while _counts(db_url)[0] < 2 * CHUNK:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "import made no progress"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    comments, scores, decisions, keys = _counts(db_url)
    assert 2 * CHUNK <= comments < TOTAL
    assert comments % CHUNK == 0, "a chunk was half-committed"
    assert comments == scores == decisions == keys

    rerun = _run(db_url, path)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"{TOTAL - comments} comments added, {comments} already present" in out
    assert _counts(db_url) == (TOTAL, TOTAL, TOTAL, TOTAL)
