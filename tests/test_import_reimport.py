"""Re-importing never loses or duplicates a comment: sourced ids are matched within the site,
page comments by author, parent and text; a changed text updates the stored comment."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
import store_fixtures
from alembic import command
from fake_scorer import FakeScorer
from typer.testing import CliRunner

from civility.cli import app
from civility.store import Store, create_user, decide, import_file, import_thread, thread_key
from civility.store._models import AuditEntry, CommentRow, ScoreRow, ThreadRow
from civility.store._store import alembic_config
from civility.thread import Article, Comment, Thread

SCORER = FakeScorer()
EXAMPLE = Path("/work/shared/examples/southfront-syria-comments.txt")
THREAT = "I will kill you and your family"
FIXTURES = Path(__file__).parent / "fixtures"
db_url = store_fixtures.db_url
store = store_fixtures.store


def _with_reply(page: str) -> str:
    """The example page with a threat posted near the top, above the second comment."""
    assert page.count("\nSaaed Wayan\n") == 1
    return page.replace("\nSaaed Wayan\n", f"\nAngry Reader\n\n{THREAT}\n\nSaaed Wayan\n")


def _rows(store: Store) -> list[CommentRow]:
    with store.session() as s:
        return list(s.scalars(sa.select(CommentRow).order_by(CommentRow.id)))


def _edits(store: Store) -> list[AuditEntry]:
    with store.session() as s:
        return list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "edit")))


def _write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _records(first: int, last: int, **extra: str) -> list[dict[str, str]]:
    return [
        {
            "id": str(i),
            "author": f"reader{i % 7}",
            "text": f"Comment number {i} on the budget.",
            **extra,
        }
        for i in range(first, last + 1)
    ]


def test_a_reply_inserted_near_the_top_of_a_page_is_the_one_comment_added(
    store: Store, tmp_path: Path
) -> None:
    page = shutil.copy(EXAMPLE, tmp_path / "page.txt")
    first = import_file(store, page, site="sf", scorer=SCORER)
    page.write_text(_with_reply(page.read_text(encoding="utf-8")), encoding="utf-8")
    second = import_file(store, page, site="sf", scorer=SCORER)
    again = import_file(store, page, site="sf", scorer=SCORER)

    rows = _rows(store)
    [threat] = [r for r in rows if r.text == THREAT]
    assert len(rows) == 29
    assert max(Counter((r.author, r.text) for r in rows).values()) == 1
    assert threat.author == "Angry Reader"
    assert threat.status in ("held", "rejected") and threat.worst_attribute == "THREAT"
    assert (first.added, second.added, second.skipped) == (28, 1, 28)
    assert (again.added, again.skipped) == (0, 29)
    # The thread shows the page's order: the threat second, right under John Mason's comment.
    ordered = sorted(rows, key=lambda r: r.position)
    assert [r.author for r in ordered[:3]] == ["John Mason", "Angry Reader", "Saaed Wayan"]


def test_the_cli_says_one_added_when_a_page_gains_one_reply(tmp_path: Path) -> None:
    page = shutil.copy(EXAMPLE, tmp_path / "page.txt")
    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(page), "--db", url]).exit_code == 0
    page.write_text(_with_reply(page.read_text(encoding="utf-8")), encoding="utf-8")
    result = runner.invoke(app, ["import", str(page), "--db", url])
    assert result.exit_code == 0, result.output
    assert "1 comments added, 28 already present (" in result.output


def test_identical_comments_by_one_author_on_a_page_are_all_kept_once(store: Store) -> None:
    plus = [Comment(f"c{n}", "Ann", "+1") for n in (1, 2)]
    other = Comment("c3", "Bob", "Great article, thanks.")
    page = Thread(None, (*plus, other), positional_ids=True)
    assert import_thread(store, page, site="s", key="k", scorer=SCORER).added == 3
    grown = Thread(None, (Comment("c1", "Cy", "+1"), *plus, other), positional_ids=True)
    result = import_thread(store, grown, site="s", key="k", scorer=SCORER)
    assert (result.added, result.skipped) == (1, 3)
    third = Thread(None, (*grown.comments, Comment("c5", "Ann", "+1")), positional_ids=True)
    assert import_thread(store, third, site="s", key="k", scorer=SCORER).added == 1
    assert Counter((r.author, r.text) for r in _rows(store)) == {
        ("Ann", "+1"): 3,
        ("Cy", "+1"): 1,
        ("Bob", "Great article, thanks."): 1,
    }


def test_a_page_truncated_the_first_time_is_completed_not_duplicated(
    store: Store, tmp_path: Path
) -> None:
    full = EXAMPLE.read_text(encoding="utf-8")
    ending = "we had a very good year with the grapes last year."
    assert full.count(ending) == 1
    page = tmp_path / "page.txt"
    page.write_text(full.split(ending)[0] + "we had a very good ye…\n", encoding="utf-8")
    assert import_file(store, page, site="sf", scorer=SCORER).added == 8
    page.write_text(full, encoding="utf-8")
    result = import_file(store, page, site="sf", scorer=SCORER)
    assert (result.added, result.updated, result.skipped) == (20, 1, 7)
    rows = _rows(store)
    assert len(rows) == 28
    [completed] = [r for r in rows if "good year with the grapes" in r.text]
    assert completed.text.endswith(ending)
    [edit] = _edits(store)
    assert edit.target == f"comment:{completed.id}"
    assert edit.detail["new_length"] - edit.detail["old_length"] == len(ending) - len(
        "we had a very good ye…"
    )
    # A later dump that cuts the comment off again keeps the full text.
    page.write_text(full.split(ending)[0] + "we had a very good ye…\n", encoding="utf-8")
    cut = import_file(store, page, site="sf", scorer=SCORER)
    assert (cut.added, cut.updated) == (0, 0)
    assert len(_rows(store)) == 28 and len(_edits(store)) == 1


def test_an_edited_page_comment_is_updated_in_place(store: Store, tmp_path: Path) -> None:
    page = shutil.copy(EXAMPLE, tmp_path / "page.txt")
    import_file(store, page, site="sf", scorer=SCORER)
    before = {r.id: r.text for r in _rows(store)}
    text = page.read_text(encoding="utf-8")
    old = "Russia is in Syria to destroy ISIS and Co, you know where they are so destroy them."
    new = "Russia is in Syria to destroy ISIS and Co, you know where they are, so go and destroy them all."
    page.write_text(text.replace(old, new), encoding="utf-8")
    result = import_file(store, page, site="sf", scorer=SCORER)
    assert (result.added, result.updated, result.skipped) == (0, 1, 27)
    after = {r.id: r.text for r in _rows(store)}
    assert after.keys() == before.keys()
    assert [i for i in after if after[i] != before[i]] == [i for i in before if before[i] == old]
    assert new in after.values()


def _retitled(page: str, title: str) -> str:
    """The page with its first line, the headline, replaced."""
    return title + "\n" + page.split("\n", 1)[1]


def _audits(store: Store, action: str) -> list[AuditEntry]:
    with store.session() as s:
        return list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_a_page_whose_headline_was_edited_stays_one_thread(store: Store, tmp_path: Path) -> None:
    page = shutil.copy(EXAMPLE, tmp_path / "page.txt")
    text = page.read_text(encoding="utf-8")
    old_title = text.split("\n", 1)[0]
    assert import_file(store, page, site="sf", scorer=SCORER).added == 28
    # The editors change the headline, and a reader replies near the top.
    page.write_text(_retitled(_with_reply(text), "Syria: the war goes on"), encoding="utf-8")
    result = import_file(store, page, site="sf", scorer=SCORER)
    assert (result.added, result.skipped, result.updated) == (1, 28, 0)
    assert result.thread_key == "title:Syria: the war goes on"
    with store.session() as s:
        threads = list(s.scalars(sa.select(ThreadRow)))
    assert [(t.key, t.title) for t in threads] == [
        ("title:Syria: the war goes on", "Syria: the war goes on")
    ]
    rows = _rows(store)
    assert len(rows) == 29 and {r.thread_id for r in rows} == {threads[0].id}
    [entry] = _audits(store, "retitle")
    assert entry.detail["old_title"] == old_title
    assert entry.detail["title"] == "Syria: the war goes on"
    # The old dump, imported again, finds the thread by its comments too.
    page.write_text(text, encoding="utf-8")
    again = import_file(store, page, site="sf", scorer=SCORER)
    assert (again.added, again.skipped) == (0, 28)
    assert len(_rows(store)) == 29
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ThreadRow)) == 1


def test_a_retitled_page_with_a_single_comment_is_matched_by_its_article(store: Store) -> None:
    body = ("The council voted on the budget last night.",)
    comment = Comment("c1", "Ann", "Good.")
    first = Thread(Article("Budget passes", body), (comment,), positional_ids=True)
    second = Thread(Article("Budget passes at last", body), (comment,), positional_ids=True)
    for thread in (first, second):
        import_thread(store, thread, site="s", key=thread_key(thread), scorer=SCORER)
    assert len(_rows(store)) == 1
    # Another article that happens to share that one short comment is its own thread.
    other = Thread(Article("Snow", ("It snowed.",)), (comment,), positional_ids=True)
    assert import_thread(store, other, site="s", key=thread_key(other), scorer=SCORER).added == 1
    with store.session() as s:
        assert sorted(s.scalars(sa.select(ThreadRow.key))) == [
            "title:Budget passes at last",
            "title:Snow",
        ]


def test_pages_of_two_articles_sharing_one_comment_stay_two_threads(store: Store) -> None:
    shared = Comment("c1", "Ann", "+1")
    a = Thread(
        Article("Rates rise", ("The bank raised rates.",)),
        (shared, Comment("c2", "Bob", "Mortgages will hurt.")),
        positional_ids=True,
    )
    b = Thread(
        Article("Rates fall", ("The bank cut rates.",)),
        (shared, Comment("c2", "Cy", "Savers lose again.")),
        positional_ids=True,
    )
    for thread in (a, b):
        import_thread(store, thread, site="s", key=thread_key(thread), scorer=SCORER)
    assert len(_rows(store)) == 4
    assert _audits(store, "retitle") == []


def test_overlapping_exports_of_one_site_store_each_id_once(store: Store, tmp_path: Path) -> None:
    day1 = _write_jsonl(tmp_path / "day1.jsonl", _records(1, 500))
    day2 = _write_jsonl(tmp_path / "day2.jsonl", _records(301, 700))
    assert import_file(store, day1, site="news", scorer=SCORER, chunk_size=128).added == 500
    result = import_file(store, day2, site="news", scorer=SCORER, chunk_size=128)
    assert (result.added, result.skipped, result.thread_key) == (200, 200, "default")
    rows = _rows(store)
    assert len(rows) == 700 == len({r.key for r in rows})


def test_a_csv_with_a_thread_id_column_fills_each_thread(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "export.csv"
    csv.write_text(
        "thread_id,id,author,text,parent_id\n"
        "budget,1,Ann,The budget looks fine to me.,\n"
        "schools,2,Bob,Schools need more teachers.,\n"
        "budget,3,Cy,I disagree with Ann.,1\n",
        encoding="utf-8",
    )
    result = import_file(store, csv, site="news", scorer=SCORER)
    assert (result.added, result.threads) == (3, 2)
    with store.session() as s:
        placed = s.execute(
            sa.select(ThreadRow.key, CommentRow.key)
            .join(CommentRow.thread)
            .order_by(CommentRow.key)
        ).all()
    assert placed == [("budget", "1"), ("schools", "2"), ("budget", "3")]
    again = import_file(store, csv, site="news", scorer=SCORER)
    assert (again.added, again.skipped) == (0, 3)


def test_an_edited_comment_is_updated_rescored_and_audited(store: Store, tmp_path: Path) -> None:
    records = _records(1, 5)
    path = _write_jsonl(tmp_path / "day1.jsonl", records)
    import_file(store, path, site="news", scorer=SCORER)
    [calm] = [r for r in _rows(store) if r.key == "3"]
    assert calm.status == "approved"
    records[2]["text"] = THREAT
    result = import_file(
        store, _write_jsonl(tmp_path / "day2.jsonl", records), site="news", scorer=SCORER
    )
    assert (result.added, result.updated, result.skipped) == (0, 1, 4)
    rows = _rows(store)
    assert len(rows) == 5
    [edited] = [r for r in rows if r.key == "3"]
    assert (edited.id, edited.text, edited.worst_attribute) == (calm.id, THREAT, "THREAT")
    assert edited.status in ("held", "rejected")
    with store.session() as s:
        [score] = s.scalars(sa.select(ScoreRow).where(ScoreRow.comment_id == edited.id))
    assert score.values["THREAT"] == edited.worst_score > calm.worst_score
    [edit] = _edits(store)
    assert edit.target == f"comment:{edited.id}"
    assert (edit.detail["old_length"], edit.detail["new_length"]) == (len(calm.text), len(THREAT))


def test_an_approved_comment_edited_into_a_threat_goes_back_to_the_queue(
    store: Store, tmp_path: Path
) -> None:
    records = _records(1, 3)
    import_file(store, _write_jsonl(tmp_path / "a.jsonl", records), site="news", scorer=SCORER)
    [row] = [r for r in _rows(store) if r.key == "2"]
    mo = create_user(store, "mo", "mo-password")
    decide(store, row.id, "approve", mo)
    records[1]["text"] = THREAT
    import_file(store, _write_jsonl(tmp_path / "b.jsonl", records), site="news", scorer=SCORER)
    [edited] = [r for r in _rows(store) if r.key == "2"]
    assert (edited.text, edited.status, edited.policy_action) == (THREAT, "held", "reject")
    [edit] = _edits(store)
    assert edit.detail["moderator_action"] == "approve"


@pytest.mark.parametrize(
    ("fixture", "site", "anchor", "new", "keys"),
    [
        pytest.param(
            "disqus-export.xml",
            "herald",
            '<post dsq:id="9001">',
            '<post dsq:id="9004"><message><![CDATA[<p>Will they paint the lanes green?</p>]]></message>'
            "<isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>Lee</name></author>"
            '<thread dsq:id="7001"/></post>\n  ',
            ["9001", "9002", "9004"],
            id="disqus",
        ),
        pytest.param(
            "wordpress-export.xml",
            "gazette",
            "<wp:comment>",
            "<wp:comment><wp:comment_id>34</wp:comment_id>"
            "<wp:comment_author>Sam</wp:comment_author>"
            "<wp:comment_content>Will the vote be streamed?</wp:comment_content>"
            "<wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>"
            "</wp:comment>\n    ",
            ["31", "32", "34"],
            id="wordpress",
        ),
    ],
)
def test_an_export_with_one_new_comment_adds_that_comment(
    store: Store, tmp_path: Path, fixture: str, site: str, anchor: str, new: str, keys: list[str]
) -> None:
    export = shutil.copy(FIXTURES / fixture, tmp_path / fixture)
    assert import_file(store, export, site=site, scorer=SCORER).added == 2
    text = export.read_text(encoding="utf-8")
    export.write_text(text.replace(anchor, new + anchor, 1), encoding="utf-8")
    result = import_file(store, export, site=site, scorer=SCORER)
    assert (result.added, result.skipped) == (1, 2)
    assert sorted(r.key for r in _rows(store)) == keys


TWO_THREADS = """<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><link>https://n.example/a</link><title>First story</title></thread>
  <thread dsq:id="2"><link>https://n.example/b</link><title>Second story</title></thread>
  <post dsq:id="11"><message>On the first</message><author><name>A</name></author><thread dsq:id="1"/></post>
  <post dsq:id="12"><message>On the second</message><author><name>B</name></author><thread dsq:id="2"/></post>
  NEW
</disqus>
"""


def test_a_disqus_export_of_several_threads_imports_each_and_then_only_new_posts(
    store: Store, tmp_path: Path
) -> None:
    export = tmp_path / "disqus.xml"
    export.write_text(TWO_THREADS.replace("NEW", ""), encoding="utf-8")
    first = import_file(store, export, site="n", scorer=SCORER)
    assert (first.added, first.threads) == (2, 2)
    new = '<post dsq:id="14"><message>Late reply</message><thread dsq:id="2"/><parent dsq:id="12"/></post>'
    export.write_text(TWO_THREADS.replace("NEW", new), encoding="utf-8")
    second = import_file(store, export, site="n", scorer=SCORER)
    assert (second.added, second.skipped) == (1, 2)
    with store.session() as s:
        placed = s.execute(
            sa.select(ThreadRow.key, CommentRow.key)
            .join(CommentRow.thread)
            .order_by(CommentRow.key)
        ).all()
    assert placed == [
        ("https://n.example/a", "11"),
        ("https://n.example/b", "12"),
        ("https://n.example/b", "14"),
    ]


def test_a_database_from_before_content_keys_takes_a_grown_page_without_duplicates(
    db_url: str, tmp_path: Path
) -> None:
    page = shutil.copy(EXAMPLE, tmp_path / "page.txt")
    store = Store.open(db_url)
    import_file(store, page, site="sf", scorer=SCORER)
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
        # Raw SQL: today's models name columns (attachments) that revision 0004 lacks.
        keys = connection.scalars(sa.text("SELECT key FROM comments")).all()
    assert sorted(keys) == sorted(f"c{n}" for n in range(1, 29))
    store.close()

    store = Store.open(db_url)  # migrates to head
    assert all(r.key.startswith("sha256:") for r in _rows(store))
    page.write_text(_with_reply(page.read_text(encoding="utf-8")), encoding="utf-8")
    result = import_file(store, page, site="sf", scorer=SCORER)
    assert (result.added, result.skipped) == (1, 28)
    assert len(_rows(store)) == 29
    store.close()
