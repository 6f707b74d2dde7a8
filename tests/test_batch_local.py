"""The local batch engine: output shape, exact scores, per-row and per-file bad input, resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from civility.batch import run_local, scan_input
from civility.errors import InvalidInput, NotFound
from civility.policy import Policy
from civility.scorer import Scorer

TEXTS = [
    "Thanks for the thoughtful article, I learned a lot.",
    "You are a complete idiot and everyone knows it.",
    "",
    "Shut up, you stupid moron.",
    "   ",
    "The council vote is on Tuesday; see the agenda.",
]


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer().load()


def test_output_keeps_input_columns_and_adds_scores_decision_and_model_version(
    tmp_path: Path, scorer: Scorer
) -> None:
    rows = [{"id": i, "text": t, "author": f"u{i}", "thread_id": "t1"} for i, t in enumerate(TEXTS)]
    src = _write_jsonl(tmp_path / "in.jsonl", rows)
    result = run_local(src, tmp_path / "out.parquet", workers=1, chunk_size=4)
    out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [list(r)[:4] for r in out] == [["id", "text", "author", "thread_id"]] * len(TEXTS)
    assert [r["id"] for r in out] == list(range(len(TEXTS)))
    expected = scorer.score([t for t in TEXTS if t.strip()])
    policy = Policy.default()
    scored = [r for r in out if r["text"].strip()]
    for row, want in zip(scored, expected, strict=True):
        assert {a: row[a] for a in scorer.attributes} == dict(want.values)  # exact equality
        assert row["decision"] == policy.decide(want).action
        assert row["model_version"] == scorer.version
    # Empty or blank text: kept, unscored, undecided, and counted.
    blank = [r for r in out if not r["text"].strip()]
    assert len(blank) == 2
    assert all(r[a] is None for r in blank for a in scorer.attributes)
    assert all(r["decision"] is None for r in blank)
    assert (result.rows, result.empty, result.chunks) == (6, 2, 2)
    assert sum(result.decisions.values()) == 4
    assert not (tmp_path / "out.parquet.parts").exists()


def test_csv_with_quotes_and_newlines_round_trips_to_jsonl_with_exact_floats(
    tmp_path: Path,
) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        'id,text,author\n1,"Hello, ""friend""\nsecond line",ann\n2,you idiot,\n', encoding="utf-8"
    )
    run_local(src, tmp_path / "out.jsonl", workers=1)
    run_local(src, tmp_path / "out.parquet", workers=1)
    as_json = [
        json.loads(line)
        for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert as_json == pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert as_json[0]["text"] == 'Hello, "friend"\nsecond line'
    assert as_json[1]["author"] is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "cut.jsonl",
            b'{"id": 1, "text": "fine"}\n{"id": 2, "text": "you',
            r"cut\.jsonl:2: not valid JSON at column 19: Unterminated string starting at "
            r"\(the line looks truncated\)\.$",
            id="truncated-jsonl-line",
        ),
        pytest.param(
            "bad.jsonl",
            b'{"id": 1, "text": "ok"}\n\n{"id": 3, "text": "caf\xe9"}\n',
            r"bad\.jsonl:3: invalid UTF-8 \(byte 23 of the line\)\.$",
            id="invalid-utf8-names-the-line",
        ),
        pytest.param(
            "notext.csv",
            b"id,body\n1,hello\n",
            r"notext\.csv has no 'text' column; found: id, body\.$",
            id="missing-text-column",
        ),
        pytest.param(
            "short.csv",
            b"id,text,author\n1,hello,ann\n2,hi\n",
            r"short\.csv:3: expected 3 fields\. Got 2\.$",
            id="csv-row-with-missing-field",
        ),
        pytest.param(
            "nokey.jsonl",
            b'{"id": 1, "text": "a"}\n{"id": 2, "body": "b"}\n',
            r"nokey\.jsonl:2: the object has no 'text' field\.$",
            id="jsonl-row-without-text",
        ),
        pytest.param(
            "clash.jsonl",
            b'{"id": 1, "text": "a", "TOXICITY": 0.5}\n',
            r"clash\.jsonl already has the output column\(s\) TOXICITY; drop or rename them first",
            id="input-already-has-score-columns",
        ),
        pytest.param(
            "comments.txt",
            b"hello\n",
            r"Unknown input file type '\.txt' for .*comments\.txt; allowed: ",
            id="unknown-extension",
        ),
    ],
)
def test_bad_input_is_one_line_error_naming_file_and_line(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    with pytest.raises(InvalidInput, match=message) as info:
        scan_input(src)
    assert "\n" not in info.value.message


def test_missing_input_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"^Input file not found: .*missing\.parquet$"):
        run_local(tmp_path / "missing.parquet", tmp_path / "out.parquet", workers=1)


# Python leaves SIGINT ignored when its parent ignored it (as test runners started in the
# background do); a terminal's Ctrl-C reaches a process that has Python's usual handler.
_AS_IN_A_TERMINAL = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from civility.cli import main; main()"
)


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _AS_IN_A_TERMINAL, "batch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C would reach
        env={**os.environ, "COLUMNS": "400"},  # a wide console: one message, one line
    )


def _processes_in_session(sid: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == sid:  # field 6 of /proc/PID/stat: session id
                found.append(f"{entry.name} {(entry / 'cmdline').read_bytes()[:120]!r}")
    return found


def test_ctrl_c_stops_workers_and_a_rerun_resumes_to_the_identical_output(tmp_path: Path) -> None:
    rows = [{"id": i, "text": f"{TEXTS[i % len(TEXTS)]} comment {i}"} for i in range(6000)]
    src = _write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.parquet"
    parts = tmp_path / "out.parquet.parts"
    proc = _cli(str(src), str(out), "--workers", "2", "--chunk-size", "50")
    deadline = time.monotonic() + 120
    while not list(parts.glob("0*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "run the same command to resume" in err
    deadline = time.monotonic() + 10
    while _processes_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_in_session(proc.pid) == []  # no worker outlives Ctrl-C
    done = len(list(parts.glob("0*.parquet")))
    assert 1 <= done < 120 and not out.exists()

    changed = _cli(str(src), str(out), "--workers", "1", "--chunk-size", "60")
    _, err = changed.communicate(timeout=120)
    assert changed.returncode == 2
    assert err.strip().startswith(
        f"Error: Cannot resume: {parts} was made with a different chunk size."
    )

    again = _cli(str(src), str(out), "--workers", "1", "--chunk-size", "50")
    printed, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"{done} of 120 chunks resumed" in printed

    reference = tmp_path / "reference.parquet"
    run_local(src, reference, workers=1, chunk_size=50)
    assert pq.read_table(out).equals(pq.read_table(reference))
    assert out.read_bytes() == reference.read_bytes()
    assert not parts.exists()


def test_a_row_in_a_language_the_model_cannot_read_is_held_with_the_reason(
    tmp_path: Path,
) -> None:
    texts = [
        "Thanks for the thoughtful article, I learned a lot.",
        "Esto es una vergüenza, el gobierno miente siempre y nadie dice nada.",
        "Gracias!",
        "",
    ]
    src = _write_jsonl(tmp_path / "in.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts)])
    result = run_local(src, tmp_path / "out.jsonl", workers=1)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    english, spanish, short, blank = out
    assert (spanish["decision"], spanish["hold_reason"]) == ("hold", "language es not supported")
    assert spanish["TOXICITY"] is None
    assert english["hold_reason"] is None and english["TOXICITY"] is not None
    assert short["hold_reason"] is None and short["TOXICITY"] is not None  # too short to refuse
    assert blank["decision"] is None and blank["hold_reason"] is None
    assert result.empty == 1 and result.decisions["hold"] >= 1
