"""``civility feedback import``, ``civility adapt`` and ``civility adapters``: decisions made
elsewhere become a site's labels, its adapter is retrained and served, listed, rolled back;
every bad input is one line and exit 2. In process (CliRunner), real SQLite, the real model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from adapt_support import crypto_decisions
from cli_support import run_cli

from civility.scorer import Scorer
from civility.store import Store, site_examples, site_scorer


def _rows(n: int, seed: int = 1) -> list[dict[str, str]]:
    """A site whose moderators rejected comments about crypto."""
    return [
        {
            "id": f"r{d.index}",
            "text": d.text,
            "decision": "reject" if d.toxic else "approve",
            "source": f"moderator:{d.moderator}",
        }
        for d in crypto_decisions(n, seed)
    ]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_import_adapt_list_and_roll_back(tmp_path: Path, real_scorer: Scorer) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    done = run_cli(
        "feedback",
        "import",
        str(_csv(tmp_path / "d.csv", _rows(300))),
        "--site",
        "crypto",
        "--db",
        db,
    )
    assert done.returncode == 0, done.stderr
    assert "Recorded 300 examples from 300 rows for site 'crypto': TOXICITY 300 (" in done.stdout

    done = run_cli("adapt", "--site", "crypto", "--db", db)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Site 'crypto': version 1 (300 labelled texts, base " in out and "is serving." in out
    assert "TOXICITY: 300 labels (" in out and ": active" in out
    assert "Serving: crypto/v1 (TOXICITY adapted)" in out
    auc = out.split("held-out AUC base ")[1].split(":")[0]
    base, adapted = (float(x) for x in auc.split(", adapted "))
    assert adapted > base + 0.1

    store = Store.open(db)
    scorer = site_scorer(store, real_scorer, "crypto")
    assert getattr(scorer, "adapter", None) == "crypto/v1"

    done = run_cli("adapters", "--db", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("* crypto\tv1\tserving\tbase ")
    assert "300 labels\tactive: TOXICITY" in done.stdout

    done = run_cli("adapt", "--site", "crypto", "--rollback", "0", "--db", db)
    assert (done.returncode, done.stdout.strip()) == (
        0,
        "Site 'crypto' now serves the base model (no adapter).",
    )
    assert site_scorer(store, real_scorer, "crypto") is real_scorer
    done = run_cli("adapt", "--site", "crypto", "--rollback", "1", "--db", db)
    assert "now serves crypto/v1" in done.stdout
    assert (
        run_cli("adapters", "--site", "elsewhere", "--db", db).stdout
        == "No adapters for site 'elsewhere'.\n"
    )

    # --all retrains every site with labels.
    done = run_cli("adapt", "--all", "--db", db)
    assert done.returncode == 0, done.stderr
    assert "Site 'crypto': version 2" in done.stdout and "Serving: crypto/v2" in done.stdout
    store.close()


def test_every_label_form_of_csv_and_jsonl(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    rows: list[dict[str, object]] = [
        {"text": "you clown", "toxic": True},
        {"text": "nice one", "toxic": 0},
        {"text": "get lost", "decision": "Reject", "source": "moderator:ann"},
        {"text": "you clown", "attribute": "insult", "score": 0.8, "id": "c1"},
        {"text": "fine", "attribute": "THREAT", "score": "0.1"},
    ]
    done = run_cli(
        "feedback", "import", str(_jsonl(tmp_path / "f.jsonl", rows)), "--site", "s", "--db", db
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Recorded 5 examples from 5 rows for site 's': INSULT 1 (1 positive); "
        "THREAT 1 (0 positive); TOXICITY 3 (2 positive)."
    )
    csv_rows = [{"text": "a", "toxic": "false"}, {"text": "b", "toxic": "1"}]
    done = run_cli(
        "feedback", "import", str(_csv(tmp_path / "g.csv", csv_rows)), "--site", "s", "--db", db
    )
    assert done.returncode == 0, done.stderr
    store = Store.open(db)
    got = site_examples(store, "s")
    store.close()
    labels = {(a, e.text): (e.label, e.source) for a, exs in got.items() for e in exs}
    assert labels[("TOXICITY", "you clown")] == (1, "import:f.jsonl")
    assert labels[("TOXICITY", "get lost")] == (1, "moderator:ann")
    assert labels[("INSULT", "you clown")] == (1, "import:f.jsonl")
    assert labels[("THREAT", "fine")][0] == 0
    assert labels[("TOXICITY", "a")] == (0, "import:g.csv")
    assert labels[("TOXICITY", "b")][0] == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.csv",
            "text,toxic\nfine,0\nbad,maybe\n",
            "bad.csv, line 3: 'toxic' must be 0, 1, true or false. Got 'maybe'.",
        ),
        ("bad.csv", "comment,toxic\nfine,0\n", "bad.csv: the CSV has no 'text' column."),
        ("bad.csv", "text,toxic\n,1\n", "bad.csv, line 2: 'text' is missing or empty."),
        (
            "bad.csv",
            "text,note\nhello,x\n",
            "bad.csv, line 2: no label: give 'toxic' (0/1), 'decision' (approve/reject), or 'attribute' and 'score'.",
        ),
        (
            "bad.jsonl",
            '{"text": "a", "toxic": 1}\n{"text": "b", "decision": "hold"}\n',
            "bad.jsonl, line 2: 'decision' must be approve or reject. Got 'hold'.",
        ),
        (
            "bad.jsonl",
            '{"text": "a", "attribute": "RUDENESS", "score": 1}\n',
            "bad.jsonl, line 1: unknown attribute 'RUDENESS'.",
        ),
        (
            "bad.jsonl",
            '{"text": "a", "attribute": "INSULT", "score": 3}\n',
            "bad.jsonl, line 1: 'score' must be a number from 0 to 1. Got 3.",
        ),
        (
            "bad.jsonl",
            '{"text": "a", "toxic": 1}\n{"text": \n',
            "bad.jsonl, line 2: not valid JSON (Expecting value).",
        ),
        ("bad.jsonl", "[1, 2]\n", "bad.jsonl, line 1: not a JSON object."),
        ("bad.jsonl", "\n", "bad.jsonl: no rows."),
        (
            "bad.txt",
            "text\n",
            "bad.txt: a feedback file must be CSV (.csv) or JSONL (.jsonl, .ndjson).",
        ),
    ],
)
def test_a_bad_feedback_file_is_one_line_naming_the_row_and_records_nothing(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    done = run_cli("feedback", "import", str(path), "--site", "s", "--db", db)
    assert (done.returncode, done.stderr, done.stdout) == (2, f"Error: {message}\n", "")
    store = Store.open(db)
    assert site_examples(store, "s") == {}
    store.close()


def test_bad_adapt_and_import_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    cases = [
        (
            ("feedback", "import", str(tmp_path / "none.csv"), "--site", "s"),
            f"Error: File not found: {tmp_path / 'none.csv'}",
        ),
        (
            ("feedback", "import", str(tmp_path), "--site", "s"),
            f"Error: {tmp_path} is a directory, not a file.",
        ),
        (
            ("import", str(tmp_path), "--db", db),
            f"Error: {tmp_path} is a directory, not a file.",
        ),
        (("adapt", "--db", db), "Error: Give either '--site SITE' or '--all'."),
        (
            ("adapt", "--site", "s", "--all", "--db", db),
            "Error: Give either '--site SITE' or '--all'.",
        ),
        (
            ("adapt", "--all", "--rollback", "1", "--db", db),
            "Error: '--rollback' needs '--site SITE'.",
        ),
        (
            ("adapt", "--site", "nowhere", "--db", db),
            "Error: Site 'nowhere' has no labelled examples to adapt to.",
        ),
        (
            ("adapt", "--site", "nowhere", "--rollback", "2", "--db", db),
            "Error: No site called 'nowhere'.",
        ),
    ]
    for args, message in cases:
        done = run_cli(*args, "--db", db) if "--db" not in args else run_cli(*args)
        assert (done.returncode, done.stderr.strip()) == (2, message), args
        assert "Traceback" not in done.stderr
    done = run_cli("feedback", "import", "x.csv")  # no --site: typer's usage error
    assert done.returncode == 2 and "--site" in done.stderr


def test_after_a_model_upgrade_adapt_all_retrains_against_the_new_base(
    tmp_path: Path, real_scorer: Scorer
) -> None:
    """A new model directory (here the shipped one with another version in its metadata: another
    base identity) never serves the old adapter; `civility adapt --all` retrains it."""
    import shutil

    from civility.model import default_model_dir

    upgraded_dir = Path(shutil.copytree(default_model_dir(), tmp_path / "model"))
    meta_path = upgraded_dir / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["version"] = f"{meta['version']}.post1"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    upgraded = Scorer(upgraded_dir).load()
    assert upgraded.version != real_scorer.version

    db = f"sqlite:///{tmp_path / 'c.db'}"
    run_cli(
        "feedback",
        "import",
        str(_csv(tmp_path / "d.csv", _rows(300))),
        "--site",
        "crypto",
        "--db",
        db,
    )
    assert run_cli("adapt", "--site", "crypto", "--db", db).returncode == 0
    store = Store.open(db)
    assert getattr(site_scorer(store, real_scorer, "crypto"), "adapter", None) == "crypto/v1"
    assert site_scorer(store, upgraded, "crypto") is upgraded  # the base serves meanwhile

    done = run_cli("adapt", "--all", "--model", str(upgraded_dir), "--db", db)
    assert done.returncode == 0, done.stderr
    assert f"version 2 (300 labelled texts, base {upgraded.version}) is serving." in done.stdout
    served = site_scorer(store, upgraded, "crypto")
    assert getattr(served, "adapter", None) == "crypto/v2"
    listed = run_cli("adapters", "--site", "crypto", "--db", db).stdout.splitlines()
    assert [line.split("\t")[1:3] for line in listed] == [["v2", "serving"], ["v1", "stale"]]
    store.close()


def test_the_operators_adapt_settings_reach_the_guards(tmp_path: Path) -> None:
    """civility.toml's / CIVILITY_ADAPT_* guards are the ones `civility adapt` fits with: a
    minimum of labels above what the site has fits nothing; a share cap four moderators cannot
    meet (20% each: four sources can hold at most 80%) refuses to adapt; a bad value is one
    line. (Without them the same labels serve an adapter: test_import_adapt_list_and_roll_back.)"""
    db = f"sqlite:///{tmp_path / 'c.db'}"
    rows = _rows(300)
    assert (
        run_cli(
            "feedback", "import", str(_csv(tmp_path / "d.csv", rows)), "--site", "s", "--db", db
        ).returncode
        == 0
    )
    done = run_cli("adapt", "--site", "s", "--db", db, env={"CIVILITY_ADAPT_MIN_LABELS": "1000"})
    assert done.returncode == 0, done.stderr
    assert "inactive (too few labels: 1000 in all" in done.stdout, done.stdout
    assert "Serving: the base model (no adapter)" in done.stdout

    capped = run_cli(
        "adapt", "--site", "s", "--db", db, env={"CIVILITY_ADAPT_MAX_SOURCE_SHARE": "0.2"}
    )
    assert capped.returncode == 0, capped.stderr
    assert "no source may hold more than 20%" in capped.stdout, capped.stdout
    assert "Serving: the base model (no adapter)" in capped.stdout

    bad = run_cli("adapt", "--site", "s", "--db", db, env={"CIVILITY_ADAPT_FLOOR_MARGIN": "lots"})
    assert bad.returncode == 2
    assert bad.stderr.strip() == "Error: Setting 'adapt_floor_margin' must be a number. Got 'lots'."
