"""JSONL, CSV, Disqus and WordPress sources, and what bad input says."""

from __future__ import annotations

from pathlib import Path

import pytest

from civility.errors import InvalidInput, NotFound
from civility.ingest import read_thread, read_threads

FIXTURES = Path(__file__).parent / "fixtures"


def test_jsonl_rows_become_comments_with_their_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"id": 1, "author": "Ann", "text": "Hello", "parent_id": null, "created_at": "2026-01-01"}\n'
        '{"id": "2", "text": "Reply", "parent_id": "1"}\n',
        encoding="utf-8",
    )
    thread = read_thread(path)
    assert [(c.id, c.author, c.text, c.parent_id) for c in thread.comments] == [
        ("1", "Ann", "Hello", None),
        ("2", None, "Reply", "1"),
    ]


def test_a_truncated_jsonl_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": 1, "text": "ok"}\n{"id": 2, "text": "cut sh', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"c\.jsonl, line 2: not valid JSON"):
        read_thread(path)


def test_csv_with_the_documented_columns(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        'id,author,text,parent_id,created_at\n1,Ann,"Hello, world",,\n2,,"multi\nline",1,2026-01-02\n',
        encoding="utf-8",
    )
    thread = read_thread(path)
    assert [(c.id, c.author, c.text, c.parent_id) for c in thread.comments] == [
        ("1", "Ann", "Hello, world", None),
        ("2", None, "multi\nline", "1"),
    ]


def test_a_csv_without_a_text_column_says_which_columns_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(
        InvalidInput, match="CSV header lacks text; expected columns id, author, text"
    ):
        read_thread(path)


def test_a_csv_row_with_missing_fields_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,author,text\n1,Ann\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"line 2: expected 3 fields"):
        read_thread(path)


def test_disqus_export_gives_article_and_live_posts_with_parents() -> None:
    thread = read_thread(FIXTURES / "disqus-export.xml")
    assert thread.article is not None
    assert thread.article.title == "Council votes on new bike lanes downtown"
    assert thread.article.paragraphs == (
        "The city council approved two new protected bike lanes on Tuesday.",
        "Construction starts in spring.",
    )
    assert [(c.id, c.author, c.parent_id) for c in thread.comments] == [
        ("9001", "Maria Lopez", None),
        ("9002", "Ken R", "9001"),
    ]
    assert (
        thread.comments[1].text
        == "Only an idiot would think this helps & you know it.\n\nWaste of money."
    )


def test_wordpress_export_gives_article_and_approved_comments() -> None:
    thread = read_thread(FIXTURES / "wordpress-export.xml")
    assert thread.article is not None
    assert thread.article.title == "School board delays budget vote"
    assert [(c.id, c.author, c.parent_id, c.text) for c in thread.comments] == [
        ("31", "Dana", None, "Thanks for covering this. The figures were released late."),
        ("32", "Rob", "31", "Agreed, two weeks is not enough."),
    ]


def test_broken_xml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text('<?xml version="1.0"?>\n<disqus>\n<post>\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"export\.xml, line \d+, column \d+: malformed XML\."):
        read_thread(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty."),
        (b"   \n\n", "is empty."),
        (b"\x00\x01\x02PK", "is a binary file, not text."),
        (b"caf\xe9", "is not valid UTF-8 (bad byte at offset 3)."),
    ],
    ids=["empty", "blank", "binary", "latin1"],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as info:
        read_thread(path)
    assert str(info.value) == f"{path} {message}"


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="File not found: "):
        read_thread(tmp_path / "nope.txt")


def test_the_jsonl_fixture_keeps_authors_replies_and_paragraphs() -> None:
    thread = read_thread(FIXTURES / "comments.jsonl")
    assert thread.article is None
    assert [(c.id, c.author, c.parent_id) for c in thread.comments] == [
        ("c-1001", "Marta Kowalski", None),
        ("c-1002", "dave_r", "c-1001"),
        ("c-1003", None, "c-1002"),
        ("c-1004", "Marta Kowalski", "c-1002"),
    ]
    assert (
        thread.comments[3].text
        == "Line 2 of the plan:\n\n“Stops every 400 m” — that's the part I like."
    )
    assert thread.comments[0].created_at == "2026-11-20T08:14:03Z"


def test_the_csv_fixture_keeps_quoted_multiline_text() -> None:
    thread = read_thread(FIXTURES / "comments.csv")
    assert [(c.id, c.author, c.parent_id) for c in thread.comments] == [
        ("c-2001", "Priya N", None),
        ("c-2002", None, "c-2001"),
        ("c-2003", "Tom O'Brien", "c-2002"),
    ]
    assert (
        thread.comments[2].text
        == 'Two points:\nfirst, the cost is on page 3;\nsecond, "clear" is fair.'
    )


def test_a_jsonl_line_separator_inside_a_text_does_not_split_the_record(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": 1, "text": "one\u2028two"}\n', encoding="utf-8")
    assert read_thread(path).comments[0].text == "one\u2028two"


def test_jsonl_is_recognised_by_content_whatever_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text('{"id": 1, "text": "Hello"}\n', encoding="utf-8")
    assert [c.text for c in read_thread(path).comments] == ["Hello"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "c.jsonl",
            '{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}\n',
            "c.jsonl, line 2: id '1' repeats an earlier comment's id.",
        ),
        ("c.jsonl", '{"id": 1, "text": 5}\n', "c.jsonl, line 1: 'text' must be a string. Got int."),
        (
            "c.jsonl",
            '{"id": 1, "text": "a"}\n["not", "an", "object"]\n',
            "c.jsonl, line 2: expected a JSON object.",
        ),
        ("c.jsonl", '{"text": "no id"}\n', "c.jsonl, line 1: 'id' is missing."),
        (
            "c.csv",
            'id,text\n1,"never closed\n',
            "c.csv, line 2: malformed CSV (unexpected end of data).",
        ),
        ("c.csv", "id,text\n1,a\n1,b\n", "c.csv, line 3: id '1' repeats an earlier comment's id."),
        ("c.csv", "id,text\n1,a,extra\n", "c.csv, line 2: expected 2 fields."),
    ],
    ids=[
        "jsonl-repeated-id",
        "jsonl-text-not-string",
        "jsonl-not-object",
        "jsonl-no-id",
        "csv-unclosed-quote",
        "csv-repeated-id",
        "csv-extra-field",
    ],
)
def test_bad_records_are_one_line_errors_naming_file_and_line(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        read_thread(path)
    assert str(info.value) == f"{tmp_path}/{message}"


def test_a_directory_is_not_a_page(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        read_thread(tmp_path)
    assert str(info.value) == f"{tmp_path} is a directory, not a file."


TWO_THREADS = """<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><link>https://n.example/a</link><title>First story</title><message/></thread>
  <thread dsq:id="2"><link>https://n.example/b</link><title>Second story</title><message/></thread>
  <post dsq:id="11"><message>On the first</message><author><name>A</name></author><thread dsq:id="1"/></post>
  <post dsq:id="12"><message>On the second</message><author><name>B</name></author><thread dsq:id="2"/></post>
  <post dsq:id="13"><message>Spam</message><isSpam>true</isSpam><thread dsq:id="2"/></post>
</disqus>
"""


def test_a_disqus_export_with_several_threads_is_read_thread_by_thread(tmp_path: Path) -> None:
    path = tmp_path / "disqus.xml"
    path.write_text(TWO_THREADS, encoding="utf-8")
    threads = read_threads(path)
    assert [
        (t.article.title if t.article else None, [c.text for c in t.comments]) for t in threads
    ] == [
        ("First story", ["On the first"]),
        ("Second story", ["On the second"]),
    ]
    with pytest.raises(InvalidInput) as info:
        read_thread(path)
    assert str(info.value) == (
        f"{path}: the Disqus export holds 2 threads with comments ('First story', 'Second story', ...); "
        "read them with civility.ingest.read_threads."
    )


def test_a_disqus_post_of_an_unknown_thread_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "disqus.xml"
    path.write_text(
        TWO_THREADS.replace('<thread dsq:id="2"/>', '<thread dsq:id="9"/>', 1), encoding="utf-8"
    )
    with pytest.raises(InvalidInput, match="post 12 belongs to thread '9', which the export lacks"):
        read_threads(path)


def test_xml_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text('<?xml version="1.0"?>\n<feed><entry/></feed>\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        read_thread(path)
    assert str(info.value) == f"{path}: XML that is neither a Disqus nor a WordPress WXR export."


def test_a_thread_column_splits_records_into_threads(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"id": 1, "text": "a", "thread_id": "t1", "url": "https://n.example/x"}\n'
        '{"id": 2, "text": "b", "url": "https://n.example/x"}\n'
        '{"id": 3, "text": "c", "thread": "t1"}\n'
        '{"id": 4, "text": "d"}\n',
        encoding="utf-8",
    )
    threads = read_threads(path)
    assert [(t.key, [c.id for c in t.comments]) for t in threads] == [
        ("t1", ["1", "3"]),
        ("https://n.example/x", ["2"]),
        (None, ["4"]),
    ]


def test_reading_one_thread_from_records_of_several_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,text,thread_id\n1,a,t1\n2,b,t2\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        read_thread(path)
    assert str(info.value) == (
        f"{path}: the file holds comments of 2 threads ('t1', 't2'); "
        "import it with 'civility import' or read it with civility.ingest.read_threads."
    )
    with pytest.raises(InvalidInput, match="id '1' repeats an earlier comment's id"):
        path.write_text("id,text,thread_id\n1,a,t1\n1,b,t2\n", encoding="utf-8")
        read_thread(path)
