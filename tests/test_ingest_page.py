"""Reading flattened pages like the bundled example."""

from __future__ import annotations

from pathlib import Path

import pytest

from civility.ingest import is_junk_line, is_name_line, parse_page, read_thread

EXAMPLE = Path(__file__).parent.parent / "examples" / "southfront-syria-comments.txt"


@pytest.fixture(scope="module")
def thread():  # type: ignore[no-untyped-def]
    return read_thread(EXAMPLE)


def test_the_article_is_found_whole_title_caption_and_six_paragraphs(thread) -> None:  # type: ignore[no-untyped-def]
    article = thread.article
    assert article.title == (
        "Russian MoD: ISIS Strongholds In Syria Are Located In Areas Controlled By US-led Coalition"
    )
    assert article.paragraphs[0] == "Major General Igor Konashenkov"
    assert len(article.paragraphs) == 7
    assert article.paragraphs[1].startswith("On June 9, Russian Defense Ministry spokesman")
    assert article.paragraphs[-1].startswith("This month, ISIS launched two major attacks")


def test_the_first_comment_is_john_masons(thread) -> None:  # type: ignore[no-untyped-def]
    first = thread.comments[0]
    assert first.author == "John Mason"
    assert (
        first.text
        == "Russia is in Syria to destroy ISIS and Co, you know where they are so destroy them."
    )


def test_authors_come_from_name_lines_and_other_comments_are_anonymous(thread) -> None:  # type: ignore[no-untyped-def]
    authors = [c.author for c in thread.comments if c.author]
    assert authors == [
        "John Mason",
        "Saaed Wayan",
        "Promitheas Apollonious",
        "Promitheas Apollonious",
        "Wise Gandalf",
        "Wise Gandalf",
        "Gregory Casey",
        "Joe Dirt",
        "Elmarie Muller",
    ]
    assert len(thread.comments) == 28


def test_single_blank_lines_are_paragraph_breaks_inside_one_comment(thread) -> None:  # type: ignore[no-untyped-def]
    quoted = next(c for c in thread.comments if c.text.startswith("“Russia is there above all"))
    assert quoted.text.count("\n\n") == 3
    assert quoted.text.endswith("that cold-blooded KGB-snake :)))")


def test_comment_image_lines_and_url_debris_are_attachments_not_prose(thread) -> None:  # type: ignore[no-untyped-def]
    zionistic = next(c for c in thread.comments if c.text.startswith("THIS IS"))
    assert zionistic.text == "THIS IS “very Zionistic”"
    assert zionistic.attachments == ("comment image",)
    debris = [c for c in thread.comments if not c.text]
    assert [c.attachments for c in debris] == [
        ("comment image%3AnffzfJMC_ylMDjYLGJqLkILjfMc&cuid=3606370",)
    ]
    assert all("comment image" not in c.text for c in thread.comments)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("John Mason", True),
        ("Wise Gandalf", True),
        ("Elmarie Muller", True),
        ("Grrrrrr !!!!!!", False),
        ("What a shocker lmao", False),
        ("Assad must stay (gr8rambino)", False),
        ("THIS IS “very Zionistic”", False),
        ("Hey Prom, I see you are back.", False),
        ("The end.", False),
        ("Élodie Dubois", True),
        ("Jean-Luc van der Berg", True),
        ("Tom O'Brien", True),
        ("End of the story .. bomb them", False),
        ("Promitheas Apollonious Of Athens Greece", False),
        ("Seriously", True),
    ],
    ids=lambda v: str(v),
)
def test_name_lines_are_short_capitalised_names_without_sentence_punctuation(
    line: str, expected: bool
) -> None:
    assert is_name_line(line) is expected


def test_junk_lines_are_recognised() -> None:
    assert is_junk_line("comment image")
    assert is_junk_line("https://example.com/x.png")
    assert not is_junk_line("I saw the comment image yesterday")


def test_two_blank_lines_separate_anonymous_comments_without_name_lines() -> None:
    page = (
        "Title\n\nFirst paragraph.\n\n\nOne comment.\nStill the same one.\n\n\n\nAnother comment.\n"
    )
    thread = parse_page(page)
    assert thread.article is not None
    assert thread.article.paragraphs == ("First paragraph.",)
    assert [(c.author, c.text) for c in thread.comments] == [
        (None, "One comment.\nStill the same one."),
        (None, "Another comment."),
    ]


@pytest.mark.parametrize(
    "one_liner", ["Grrrrrr !!!!!!", "What a shocker lmao", "Assad must stay (gr8rambino)"]
)
def test_one_line_comments_are_prose_not_authors(one_liner: str) -> None:
    page = (
        f"Title\n\nArticle text.\n\nAnn Lee\n\nFirst.\n\n\n{one_liner}\n\n\nBob Stone\n\nSecond.\n"
    )
    thread = parse_page(page)
    assert [(c.author, c.text) for c in thread.comments] == [
        ("Ann Lee", "First."),
        (None, one_liner),
        ("Bob Stone", "Second."),
    ]


def test_the_article_ends_where_the_first_name_line_starts_a_comment() -> None:
    page = "Title\n\nCaption Name\n\nPara one.\n\nPara two.\n\nAnn Lee\n\nHello.\n"
    thread = parse_page(page)
    assert thread.article is not None
    assert thread.article.paragraphs == ("Caption Name", "Para one.", "Para two.")
    assert [(c.author, c.text) for c in thread.comments] == [("Ann Lee", "Hello.")]


def test_a_name_line_with_no_text_after_it_is_kept_as_prose() -> None:
    thread = parse_page("Title\n\nBody.\n\n\nThanks Obama\n")
    assert [(c.author, c.text) for c in thread.comments] == [(None, "Thanks Obama")]


def test_a_comment_made_only_of_debris_keeps_it_as_attachments() -> None:
    thread = parse_page("Title\n\nBody.\n\n\ncomment image\nhttps://cdn.example/x.gif?a=1&b=2\n")
    assert [(c.text, c.attachments) for c in thread.comments] == [
        ("", ("comment image", "https://cdn.example/x.gif?a=1&b=2"))
    ]


def test_windows_line_endings_read_like_unix_ones() -> None:
    unix = "Title\n\nBody.\n\nAnn Lee\n\nHello.\n\n\nBye.\n"
    assert parse_page(unix.replace("\n", "\r\n")) == parse_page(unix)
