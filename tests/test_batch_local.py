"""The local batch engine: output shape, exact scores, per-row and per-file bad input, resuming."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_support import Done, run_cli

from civility.batch import run_local, scan_input
from civility.batch._io import iter_chunks
from civility.errors import InvalidInput, NotFound
from civility.moderate import POLICY_SCALE
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
def scorer(real_scorer: Scorer) -> Scorer:
    return real_scorer


@pytest.mark.slow  # spawns a worker process that loads the model
def test_output_keeps_input_columns_and_adds_scores_decision_and_model_version(
    tmp_path: Path, scorer: Scorer
) -> None:
    rows = [{"id": i, "text": t, "author": f"u{i}", "thread_id": "t1"} for i, t in enumerate(TEXTS)]
    src = _write_jsonl(tmp_path / "in.jsonl", rows)
    result = run_local(src, tmp_path / "out.parquet", workers=1, chunk_size=4)
    out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [list(r)[:4] for r in out] == [["id", "text", "author", "thread_id"]] * len(TEXTS)
    assert [r["id"] for r in out] == list(range(len(TEXTS)))
    expected = scorer.score([t for t in TEXTS if t.strip()], scale=POLICY_SCALE)
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


@pytest.mark.slow  # spawns a worker process that loads the model
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
            r"cut\.jsonl:2: not valid JSON at column 19: Unterminated string "
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
            try:  # (a process may exit between the two reads)
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()[:120]
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == sid:  # field 6 of /proc/PID/stat: session id
                found.append(f"{entry.name} {cmdline!r}")
    return found


# A job long enough that it cannot finish between its first part and a signal, even when the
# test process is starved on a loaded machine (6,000 rows once did: exit 0 before Ctrl-C).
LONG_JOB_CHUNKS = 480


def _long_job(tmp_path: Path) -> tuple[Path, Path, Path, subprocess.Popen[str]]:
    """Input, output and parts paths of a 2-worker job of ``LONG_JOB_CHUNKS`` chunks of 50
    rows, and its process, returned once its first part is written."""
    rows = [
        {"id": i, "text": f"{TEXTS[i % len(TEXTS)]} comment {i}"}
        for i in range(LONG_JOB_CHUNKS * 50)
    ]
    src = _write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.parquet"
    parts = tmp_path / "out.parquet.parts"
    proc = _cli(str(src), str(out), "--workers", "2", "--chunk-size", "50")
    deadline = time.monotonic() + 120
    while not list(parts.glob("0*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not list(parts.glob("0*.parquet")):
        code = proc.poll()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # (its own session: the driver and workers)
        pytest.fail(f"The job wrote no part in 120 s (exit code {code}).")
    return src, out, parts, proc


@pytest.mark.slow
def test_ctrl_c_stops_workers_and_a_rerun_resumes_to_the_identical_output(tmp_path: Path) -> None:
    chunks = LONG_JOB_CHUNKS
    src, out, parts, proc = _long_job(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "run the same command to resume" in err
    deadline = time.monotonic() + 10
    while _processes_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_in_session(proc.pid) == []  # no worker outlives Ctrl-C
    done = len(list(parts.glob("0*.parquet")))
    assert 1 <= done < chunks and not out.exists()

    changed = _cli(str(src), str(out), "--workers", "1", "--chunk-size", "60")
    _, err = changed.communicate(timeout=120)
    assert changed.returncode == 2
    assert err.strip().startswith(
        f"Error: Cannot resume: {parts} was made with a different chunk size."
    )

    again = _cli(str(src), str(out), "--workers", "1", "--chunk-size", "50")
    printed, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"{done} of {chunks} chunks resumed" in printed

    reference = tmp_path / "reference.parquet"
    run_local(src, reference, workers=1, chunk_size=50)
    assert pq.read_table(out).equals(pq.read_table(reference))
    assert out.read_bytes() == reference.read_bytes()
    assert not parts.exists()


# ---------------------------------------------------------------- faults: corrupt input, a killed driver


def _parquet(path: Path, rows: int) -> Path:
    """Snappy-compressed comments in three row groups."""
    import pyarrow as pa

    texts = [f"{TEXTS[i % len(TEXTS)]} comment number {i * 7919 % 1000}" for i in range(rows)]
    table = pa.table({"id": list(range(rows)), "text": texts})
    pq.write_table(table, path, compression="snappy", row_group_size=rows // 3)
    return path


def _corrupt_parquet(path: Path, rows: int) -> Path:
    """A Parquet file whose last row group's 'text' pages are overwritten mid-chunk: the
    footer (schema, row counts) stays readable, the data does not."""
    _parquet(path, rows)
    meta = pq.ParquetFile(path).metadata
    chunk = meta.row_group(meta.num_row_groups - 1).column(1)
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    middle = start + chunk.total_compressed_size // 2
    data = bytearray(path.read_bytes())
    data[middle : middle + 200] = bytes(b ^ 0xFF for b in data[middle : middle + 200])
    path.write_bytes(bytes(data))
    return path


def _run_cli(*args: str) -> Done:
    return run_cli("batch", *args, columns=400)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "cut.jsonl",
            b'{"id": 1, "text": "a"}\n{"id": 2, "text": "you are a\n{"id": 3, "text": "c"}\n',
            r"cut\.jsonl:2: not valid JSON at column 29: Invalid control character "
            r"\(the line looks truncated\)\.",
            id="jsonl-line-cut-mid-string",
        ),
        pytest.param(
            "cutobj.jsonl",
            b'{"id": 1, "text": "a"}\n{"id": 2, "text": "b"\n{"id": 3, "text": "c"}\n',
            r"cutobj\.jsonl:2: not valid JSON at column 22: Expecting ',' delimiter "
            r"\(the line looks truncated\)\.",
            id="jsonl-line-cut-after-a-value",
        ),
        pytest.param(
            "cututf8.jsonl",
            '{"id": 1, "text": "a"}\n{"id": 2, "text": "caf\u00e9'.encode()[:-1]
            + b'\n{"id": 3, "text": "c"}\n',
            r"cututf8\.jsonl:2: invalid UTF-8 \(byte 23 of the line; the line looks truncated\)\.",
            id="jsonl-line-cut-mid-character",
        ),
        pytest.param(
            "cut.csv",
            b'id,text\n1,hello\n2,"you are a\n3,fine\n4,ok\n',
            r"cut\.csv:3: unterminated quoted field \(it runs to the end of the file\)\.",
            id="csv-quote-never-closed",
        ),
    ],
)
def test_truncated_input_mid_file_is_refused_with_its_line_before_anything_is_written(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out.parquet"
    done = _run_cli(str(src), str(out), "--workers", "1")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.fullmatch("Error: .*" + message, done.stderr.strip()), done.stderr
    assert not out.exists() and not (tmp_path / "out.parquet.parts").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("last.jsonl", b'{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}', id="jsonl"),
        pytest.param("last.csv", b"id,text\n1,a\n2,b", id="csv"),
        pytest.param("lastquoted.csv", b'id,text\n1,a\n2,"b\nc"', id="csv-quoted"),
    ],
)
def test_a_last_line_without_newline_is_a_row(tmp_path: Path, name: str, content: bytes) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    assert scan_input(src).rows == 2


def test_corrupt_parquet_page_is_one_line_exit_2_and_nothing_written(tmp_path: Path) -> None:
    src = _corrupt_parquet(tmp_path / "in.parquet", 3000)
    out = tmp_path / "out.parquet"
    done = _run_cli(str(src), str(out), "--workers", "2", "--chunk-size", "500")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"Error: {src} is not a readable Parquet file: Corrupt snappy compressed data "
        "(row group 3 of 3, rows 2,001-3,000)."
    )
    assert not out.exists() and not (tmp_path / "out.parquet.parts").exists()


def test_corrupt_input_leaves_another_inputs_resume_state_alone(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    good = _write_jsonl(
        tmp_path / "good.jsonl", [{"id": i, "text": t} for i, t in enumerate(TEXTS)]
    )
    parts = tmp_path / "out.parquet.parts"
    parts.mkdir()  # as a run of good.jsonl interrupted after its first chunk leaves it
    (parts / "manifest.json").write_text(json.dumps({"input": str(good)}), encoding="utf-8")
    (parts / "00000000.parquet").write_bytes(b"PAR1 a finished chunk PAR1")
    before = {p.name: p.read_bytes() for p in parts.iterdir()}
    bad = _corrupt_parquet(tmp_path / "in.parquet", 300)
    with pytest.raises(InvalidInput, match=r"is not a readable Parquet file: Corrupt snappy"):
        run_local(bad, out, workers=1)
    assert {p.name: p.read_bytes() for p in parts.iterdir()} == before
    assert not out.exists()


def test_parquet_with_invalid_utf8_text_names_the_row(tmp_path: Path) -> None:
    import pyarrow as pa

    text = pa.array([b"fine", b"also fine", b"caf\xe9"], pa.binary()).view(pa.string())
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "text": text}), src)
    with pytest.raises(InvalidInput) as info:
        scan_input(src)
    assert info.value.message == f"{src}: row 3, column 'text': invalid UTF-8."


def test_parquet_changed_after_the_check_is_a_one_line_error(tmp_path: Path) -> None:
    src = _parquet(tmp_path / "in.parquet", 300)
    plan = scan_input(src)
    _corrupt_parquet(src, 300)  # corrupted between the check and the scoring
    with pytest.raises(InvalidInput) as info:
        list(iter_chunks(plan, 100))
    assert info.value.message == (
        f"{src} could not be read (did it change after it was checked?): "
        "Corrupt snappy compressed data."
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:  # field 4: parent pid
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_workers_exit_when_the_driver_is_killed_and_a_rerun_resumes(tmp_path: Path) -> None:
    chunks = LONG_JOB_CHUNKS
    src, out, parts, proc = _long_job(tmp_path)
    children: list[int] = []
    try:
        # The workers and multiprocessing's resource tracker: the pool starts its workers as
        # chunks are submitted, so on a loaded machine the second may still be starting.
        deadline = time.monotonic() + 30
        while len(children := _children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(children) >= 2, (proc.poll(), _processes_in_session(proc.pid))
        proc.kill()  # kill -9: nothing in the driver runs any more
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while _processes_in_session(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_in_session(proc.pid) == []  # no worker outlives its driver
    finally:
        for pid in children:  # the test's own processes, should the assertion above fail
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for stream in (proc.stdout, proc.stderr):  # the workers may hold these pipes open
            if stream is not None:
                stream.close()
    done = len(list(parts.glob("0*.parquet")))
    assert 1 <= done < chunks and not out.exists()

    again = _cli(str(src), str(out), "--workers", "2", "--chunk-size", "50")
    printed, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"{done} of {chunks} chunks resumed" in printed
    scored = pq.read_table(out).to_pylist()
    assert [r["id"] for r in scored] == list(range(chunks * 50))  # every row, once, in order
    assert [r["text"] for r in scored] == [json.loads(line)["text"] for line in src.open()]
    assert all(r["decision"] is not None for r in scored)
    assert not parts.exists()


@pytest.mark.slow  # spawns a worker process that loads the model
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
