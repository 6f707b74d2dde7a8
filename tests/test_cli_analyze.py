"""The `civility` command as a user runs it: its entry point, output and exit code, in process
(typer's CliRunner); `test_the_installed_command_runs_as_a_process` keeps one real process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import Done, run_cli

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "southfront-syria-comments.txt"


def civility(*args: str, stdin: str | None = None) -> Done:
    """The entry point, in process (typer's CliRunner), on this checkout's sources."""
    return run_cli(*args, stdin=stdin)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report") / "report.html"


@pytest.fixture(scope="module")
def analysis(report: Path) -> dict:  # type: ignore[type-arg]
    done = civility("analyze", str(EXAMPLE), "--json", "--html", str(report))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _comment(analysis: dict, opening: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in analysis["comments"] if c["text"].startswith(opening))


def test_analyze_json_has_article_comments_scores_spans_and_decisions(analysis: dict) -> None:  # type: ignore[type-arg]
    assert analysis["article"]["title"] == (
        "Russian MoD: ISIS Strongholds In Syria Are Located In Areas Controlled By US-led Coalition"
    )
    assert analysis["article"]["paragraphs"][0] == "Major General Igor Konashenkov"
    assert len(analysis["article"]["paragraphs"]) == 7
    assert analysis["comments"][0]["author"] == "John Mason"
    scored = [c for c in analysis["comments"] if c["text"]]
    assert all(
        set(c["scores"])
        == {
            "TOXICITY",
            "SEVERE_TOXICITY",
            "IDENTITY_ATTACK",
            "INSULT",
            "PROFANITY",
            "THREAT",
            "SEXUALLY_EXPLICIT",
            "FLIRTATION",
            "SPAM",
        }
        for c in scored
    )
    for c in scored:
        for spans in c.get("spans", {}).values():
            for s in spans:
                assert c["text"][s["begin"] : s["end"]] == s["text"]
    counts = analysis["summary"]
    assert counts["approve"] + counts["hold"] + counts["reject"] == len(analysis["comments"])


def test_the_assassination_incitement_is_held_or_rejected_for_threat(analysis: dict) -> None:  # type: ignore[type-arg]
    # On Perspective's scale (model 1.1.0) it scores THREAT 0.66: held for a moderator.
    c = _comment(analysis, "This is a charity if somebody assassinate")
    assert c["decision"]["action"] in ("hold", "reject")
    assert "THREAT" in [r["attribute"] for r in c["decision"]["reasons"]]


@pytest.mark.parametrize(
    "opening", ["very well yes. R U coming", "ok pro, i do that after traveling"]
)
def test_the_boars_and_grapes_conversation_is_approved(analysis: dict, opening: str) -> None:  # type: ignore[type-arg]
    assert _comment(analysis, opening)["decision"]["action"] == "approve"


def test_a_comment_with_only_an_attachment_is_held_unscored(analysis: dict) -> None:  # type: ignore[type-arg]
    debris = next(c for c in analysis["comments"] if not c["text"])
    assert "scores" not in debris
    assert debris["decision"]["action"] == "hold"


def test_analyze_prints_a_table_and_a_thread_summary() -> None:
    done = civility("analyze", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "John Mason" in done.stdout and "Russia is in Syria to destroy ISIS" in done.stdout
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"28 comments: \d+ approved, \d+ held, \d+ rejected; worst: [A-Z_]+ [01]\.\d\d by .+ \(c\d+\)",
        last,
    ), last


def test_analyze_writes_a_self_contained_html_report(analysis: dict, report: Path) -> None:  # type: ignore[type-arg]
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "<mark" in html
    assert 'src="http' not in html and 'href="http' not in html
    assert "Promitheas Apollonious" in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Error: File not found: {path}"),
        ("dir", "Error: {path} is a directory, not a file."),
        (b"\x00\x00\x00binary", "Error: {path} is a binary file, not text."),
        (b"\xff\xfe bad", "Error: {path} is not valid UTF-8 (bad byte at offset 0)."),
        (b"", "Error: {path} is empty."),
    ],
    ids=["missing", "directory", "binary", "invalid-utf8", "empty"],
)
def test_bad_pages_give_one_line_errors_and_exit_code_2(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / "page.txt"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    done = civility("analyze", str(path))
    assert done.returncode == 2
    assert done.stderr.strip() == message.format(path=path)
    assert "Traceback" not in done.stderr + done.stdout


def test_a_missing_policy_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    done = civility("analyze", str(EXAMPLE), "--policy", str(tmp_path / "p.toml"))
    assert (done.returncode, done.stderr.strip()) == (
        2,
        f"Error: Policy file not found: {tmp_path / 'p.toml'}",
    )


def test_score_reads_texts_or_jsonl_from_stdin() -> None:
    done = civility(
        "score",
        "-",
        "--json",
        stdin='{"text": "You are a complete idiot."}\n{"text": "Lovely weather."}\n',
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["You are a complete idiot.", "Lovely weather."]
    assert rows[0]["scores"]["INSULT"] > rows[1]["scores"]["INSULT"]


def test_score_with_empty_stdin_is_an_error() -> None:
    done = civility("score", "-", stdin="\n\n")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "Error: Nothing to score: the text is empty.",
    )


def test_score_with_a_truncated_jsonl_line_names_it() -> None:
    done = civility("score", "-", stdin='{"text": "fine"}\n{"text": "cut')
    assert done.returncode == 2
    assert done.stderr.startswith("Error: stdin, line 2: not valid JSON")


def test_analyze_with_db_stores_what_import_then_finds_already_there(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    analyzed = civility("analyze", str(EXAMPLE), "--json", "--db", db, "--site", "sf")
    assert analyzed.returncode == 0, analyzed.stderr
    assert "28 comments added, 0 already present" in analyzed.stderr
    imported = civility("import", str(EXAMPLE), "--db", db, "--site", "sf")
    assert imported.returncode == 0, imported.stderr
    assert "0 comments added, 28 already present" in " ".join(imported.stdout.split())


def test_analyze_holds_a_comment_in_another_language_with_the_reason(tmp_path: Path) -> None:
    page = tmp_path / "comments.jsonl"
    rows = [
        {"id": "1", "author": "Ann", "text": "Thanks for the clear write-up, this helped."},
        {
            "id": "2",
            "author": "Eva",
            "text": "Esto es una vergüenza, el gobierno miente siempre y nadie dice nada.",
        },
    ]
    page.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = civility("analyze", str(page), "--json")
    assert done.returncode == 0, done.stderr
    spanish = json.loads(done.stdout)["comments"][1]
    assert spanish["decision"] == {"action": "hold", "reasons": []}
    assert spanish["note"] == "language es not supported"
    table = civility("analyze", str(page))
    assert "language es not supported" in table.stdout
    assert "2 comments: 1 approved, 1 held, 0 rejected" in table.stdout


@pytest.mark.slow
def test_the_installed_command_runs_as_a_process(tmp_path: Path) -> None:
    # One smoke test of the real entry point in a process of its own, in a clean environment.
    env = {
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "160",
        "HOME": str(ROOT),
        "PYTHONPATH": str(ROOT / "src"),
    }
    missing = tmp_path / "page.txt"
    done = subprocess.run(
        [sys.executable, "-m", "civility.cli", "analyze", str(missing)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert (done.returncode, done.stderr.strip()) == (2, f"Error: File not found: {missing}")
    done = subprocess.run(
        [sys.executable, "-m", "civility.cli", "score", "-", "--json"],
        input="You are a complete idiot.\n",
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scores"]["INSULT"] > 0.5
