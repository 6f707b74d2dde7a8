"""The library behind `civility analyze` and `civility score`: analysis, JSON, HTML, tables."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from civility.moderate import NO_TEXT_NOTE, Analysis, CommentResult, analyze_page, analyze_thread
from civility.policy import Decision, Policy, Reason
from civility.report import (
    analysis_dict,
    highlight_segments,
    print_analysis,
    print_scores,
    stdin_texts,
    to_json,
    write_html,
)
from civility.scorer import Scorer, Scores, Span
from civility.thread import Article, Comment, Thread

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "southfront-syria-comments.txt"


@pytest.fixture(scope="module")
def scorer(real_scorer: Scorer) -> Scorer:
    return real_scorer


THREAD = Thread(
    article=Article("Budget vote <delayed>", ("The board met on Tuesday.",)),
    comments=(
        Comment(
            "a", "Ann <b>Lee</b>", "<script>alert('x')</script> You are a complete idiot & a liar."
        ),
        Comment("b", None, "", attachments=("comment image",)),
        Comment("c", "Bob", "Thanks for the clear write-up."),
    ),
)


def test_every_comment_gets_a_decision_in_page_order(scorer: Scorer) -> None:
    analysis = analyze_thread(THREAD, scorer, Policy.default())
    assert [r.comment.id for r in analysis.results] == ["a", "b", "c"]
    assert analysis.model_version == scorer.version
    assert sum(analysis.counts().values()) == 3


def test_a_comment_without_prose_is_held_unscored_with_a_note(scorer: Scorer) -> None:
    debris = analyze_thread(THREAD, scorer, Policy.default()).results[1]
    assert (debris.scores, debris.decision, debris.note) == (None, Decision("hold"), NO_TEXT_NOTE)


def test_the_summary_counts_decisions_and_names_the_worst_score(scorer: Scorer) -> None:
    analysis = analyze_thread(THREAD, scorer, Policy.default())
    assert re.fullmatch(
        r"3 comments: \d approved, \d held, \d rejected; worst: [A-Z_]+ [01]\.\d\d by \S.* \((a|c)\)",
        analysis.summary(),
    ), analysis.summary()
    worst = max((r for r in analysis.results if r.scores), key=lambda r: r.scores.top(1)[0][1])  # type: ignore[union-attr]
    assert analysis.summary().endswith(f"({worst.comment.id})")


def test_a_thread_of_one_comment_says_comment_not_comments(scorer: Scorer) -> None:
    one = Thread(None, (Comment("x", None, "Nice photo."),))
    assert analyze_thread(one, scorer, Policy.default()).summary().startswith("1 comment: ")


def test_a_stricter_policy_approves_fewer_comments_of_the_example_page() -> None:
    default = analyze_page(EXAMPLE).counts()
    strict = analyze_page(EXAMPLE, policy_file=ROOT / "examples" / "strict-policy.toml").counts()
    assert strict["approve"] < default["approve"]
    assert strict["reject"] >= default["reject"]


def test_the_json_holds_article_comments_scores_spans_decisions_and_model_version(
    scorer: Scorer,
) -> None:
    analysis = analyze_thread(THREAD, scorer, Policy.default())
    data = json.loads(to_json(analysis))
    assert data == analysis_dict(analysis)
    assert data["model_version"] == scorer.version
    assert data["article"] == {
        "title": "Budget vote <delayed>",
        "paragraphs": ["The board met on Tuesday."],
        "url": None,
    }
    first, debris, _ = data["comments"]
    assert set(first) >= {"id", "author", "text", "attachments", "scores", "spans", "decision"}
    assert set(first["scores"]) == set(scorer.attributes)
    for spans in first["spans"].values():
        for s in spans:
            assert first["text"][s["begin"] : s["end"]] == s["text"]
    assert debris["attachments"] == ["comment image"] and "scores" not in debris
    assert debris["decision"] == {"action": "hold", "reasons": []}


def _analysis_with(
    text: str, spans: dict[str, tuple[Span, ...]], values: dict[str, float]
) -> Analysis:
    comment = Comment("x", "Zoë", text)
    scores = Scores(values=values, spans=spans, model_version="test")
    decision = Policy.default().decide(scores)
    return Analysis(
        Thread(None, (comment,)), (CommentResult(comment, scores, decision),), "default", "test"
    )


def test_span_offsets_are_code_points_even_after_emoji_and_accents(tmp_path: Path) -> None:
    text = "😀👍🏽 café: you idiot <3"
    begin = text.index("idiot")
    analysis = _analysis_with(text, {"INSULT": (Span(begin, begin + 5, 0.4),)}, {"INSULT": 0.9})
    out = tmp_path / "r.html"
    write_html(analysis, out)
    html = out.read_text(encoding="utf-8")
    assert re.search(r"<mark [^>]*title=\"INSULT \+0\.40\">idiot</mark> &lt;3", html)


def test_the_html_report_escapes_comment_text_authors_and_titles(
    scorer: Scorer, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    write_html(analyze_thread(THREAD, scorer, Policy.default()), out)
    html = out.read_text(encoding="utf-8")
    assert "<script>" not in html and "<b>Lee" not in html
    assert "&lt;script&gt;" in html and "Ann &lt;b&gt;Lee&lt;/b&gt;" in html
    assert "Budget vote &lt;delayed&gt;" in html


def test_the_html_report_is_self_contained_with_an_inline_chart(
    scorer: Scorer, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    write_html(analyze_thread(THREAD, scorer, Policy.default()), out)
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html and html.count("<rect") == 3
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html


def test_only_spans_of_deciding_or_high_attributes_are_highlighted() -> None:
    text = "go back to the shithole"
    spans = {"PROFANITY": (Span(15, 23, 0.3),), "INSULT": (Span(0, 2, 0.3),)}
    scores = Scores(values={"PROFANITY": 0.85, "INSULT": 0.1}, spans=spans)
    decision = Decision("hold", (Reason("PROFANITY", 0.85, 0.8, "hold"),))
    pieces = highlight_segments(text, scores, decision)
    assert [(p["text"], p["label"]) for p in pieces] == [
        ("go back to the ", ""),
        ("shithole", "PROFANITY +0.30"),
    ]
    assert "".join(p["text"] for p in pieces) == text


def test_spans_that_barely_move_a_score_are_not_highlighted() -> None:
    scores = Scores(values={"TOXICITY": 0.9}, spans={"TOXICITY": (Span(0, 4, 0.01),)})
    assert highlight_segments("meh ok", scores) == [{"text": "meh ok", "score": 0.0, "label": ""}]


def test_the_table_shows_authors_openings_and_decisions_with_markup_escaped(scorer: Scorer) -> None:
    thread = Thread(None, (Comment("1", "[bold]Ann[/bold]", "[red]not markup[/red] hello"),))
    out = io.StringIO()
    print_analysis(
        analyze_thread(thread, scorer, Policy.default()), Console(file=out, width=140, _environ={})
    )
    text = out.getvalue()
    assert "[bold]Ann[/bold]" in text and "[red]not markup[/red] hello" in text
    assert text.strip().splitlines()[-1].startswith("1 comment: ")


def test_score_output_as_json_lines_and_as_a_table(scorer: Scorer) -> None:
    texts = ["You are a complete idiot.", "Lovely weather today."]
    results = list(zip(texts, scorer.score(texts), strict=True))
    out = io.StringIO()
    print_scores(results, Console(file=out, width=120, _environ={}), as_json=True)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["text"] for r in rows] == texts
    assert rows[0]["scores"]["INSULT"] > rows[1]["scores"]["INSULT"]
    out = io.StringIO()
    print_scores(results, Console(file=out, width=120, _environ={}), as_json=False)
    assert "You are a complete idiot." in out.getvalue() and "INS" in out.getvalue()


@pytest.mark.parametrize(
    ("data", "texts"),
    [
        ("one\ntwo\n\nthree\n", ["one", "two", "three"]),
        ("one\r\ntwo\r\n", ["one", "two"]),
        ('{"text": "a"}\n\n{"text": "b", "id": 7}\n', ["a", "b"]),
        ("{not json} is a text\nsecond\n", ["{not json} is a text", "second"]),
    ],
    ids=["lines", "crlf", "jsonl", "brace-text"],
)
def test_stdin_is_jsonl_when_its_first_line_is_an_object_else_a_text_per_line(
    data: str, texts: list[str]
) -> None:
    assert stdin_texts(data) == texts


def test_a_bad_jsonl_line_on_stdin_is_named_by_its_real_line_number() -> None:
    from civility.errors import InvalidInput

    with pytest.raises(InvalidInput) as info:
        stdin_texts('{"text": "a"}\n\n{"txt": "b"}\n')
    assert str(info.value) == "stdin, line 3: expected an object with a string 'text'."


@pytest.mark.parametrize(
    "data", ['{"text": "hi"\n', '\n {"text": "cut', '{"text": "a",}\n{"text": "b"}\n']
)
def test_a_first_line_cut_or_malformed_as_json_is_an_error_not_a_text(data: str) -> None:
    from civility.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"^stdin, line [12]: not valid JSON \("):
        stdin_texts(data)


def test_the_worst_comment_is_the_strictest_decision_then_the_highest_score() -> None:
    policy = Policy.default()
    held = Scores(values={"PROFANITY": 1.0, "THREAT": 0.0})
    rejected = Scores(values={"PROFANITY": 0.0, "THREAT": 0.8})
    a = Comment("a", "Ann", "held")
    b = Comment("b", None, "rejected")
    analysis = Analysis(
        Thread(None, (a, b)),
        (
            CommentResult(a, held, policy.decide(held)),
            CommentResult(b, rejected, policy.decide(rejected)),
        ),
        "default",
        "test",
    )
    assert (
        analysis.summary()
        == "2 comments: 0 approved, 1 held, 1 rejected; worst: THREAT 0.80 by anonymous (b)"
    )


def test_an_article_without_comments_still_gives_a_summary_and_a_report(
    scorer: Scorer, tmp_path: Path
) -> None:
    analysis = analyze_thread(
        Thread(Article("Quiet story", ("Nothing yet.",)), ()), scorer, Policy.default()
    )
    assert analysis.summary() == "0 comments: 0 approved, 0 held, 0 rejected"
    write_html(analysis, tmp_path / "r.html")
    assert "Quiet story" in (tmp_path / "r.html").read_text(encoding="utf-8")
    out = io.StringIO()
    print_analysis(analysis, Console(file=out, width=100, _environ={}))
    assert out.getvalue().strip().splitlines()[-1] == "0 comments: 0 approved, 0 held, 0 rejected"


SPANISH = "Esto es una vergüenza, el gobierno miente siempre y nadie dice nada."


def test_a_comment_in_a_language_the_model_cannot_read_is_held_unscored_with_the_reason(
    scorer: Scorer,
) -> None:
    thread = Thread(
        None,
        (
            Comment("en", "Ann", "Thanks for the clear write-up."),
            Comment("es", "Eva", SPANISH),
            Comment("short", "Eva", "Gracias!"),
        ),
    )
    analysis = analyze_thread(thread, scorer, Policy.default())
    english, spanish, short = analysis.results
    assert (spanish.scores, spanish.decision.action, spanish.note) == (
        None,
        "hold",
        "language es not supported",
    )
    assert english.scores is not None and short.scores is not None
    data = analysis_dict(analysis)["comments"][1]
    assert data["note"] == "language es not supported" and "scores" not in data
    out = io.StringIO()
    print_analysis(analysis, Console(file=out, width=140, _environ={}))
    assert "language es not supported" in out.getvalue()
