"""Showing an analysis: Rich table, JSON, HTML report; and ``civility score``'s texts and table.

``civility.moderate`` makes the ``Analysis`` (``analyze_thread``, ``analyze_page``); this
module renders it: ``print_analysis`` (a table and the summary), ``analysis_dict`` (the
plain-data form that ``--json`` prints), ``to_json`` and ``write_html``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, select_autoescape
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from civility.errors import InvalidInput
from civility.highlight import segments
from civility.ingest import decode
from civility.moderate import NO_TEXT_NOTE, Analysis
from civility.policy import Decision
from civility.scorer import Scorer, Scores


def _opening(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


_ACTION_STYLE = {"approve": "green", "hold": "yellow", "reject": "bold red"}


def print_analysis(analysis: Analysis, console: Console) -> None:
    """A table of comments (author, opening words, top attributes, decision) and a summary."""
    article = analysis.thread.article
    if article is not None:
        console.print(f"[bold]{escape(article.title)}[/bold]", highlight=False, soft_wrap=True)
        console.print(f"article: {len(article.paragraphs)} paragraphs", highlight=False)
    # The comment column takes what the fixed columns leave, and cuts its text with an ellipsis.
    # Narrow terminals get one top attribute, wide ones two.
    wide = console.width >= 120
    table = Table(show_lines=False, expand=True)
    id_width = min(max((len(r.comment.id) for r in analysis.results), default=1), 12)
    table.add_column("#", justify="right", no_wrap=True, overflow="ellipsis", width=id_width)
    table.add_column("author", no_wrap=True, overflow="ellipsis", width=16 if wide else 12)
    table.add_column("comment", no_wrap=True, overflow="ellipsis", ratio=1, min_width=12)
    table.add_column("top attributes", no_wrap=True, overflow="ellipsis", width=34 if wide else 20)
    table.add_column("decision", no_wrap=True, overflow="ellipsis", width=20 if wide else 15)
    for r in analysis.results:
        if r.scores is None:
            # the note says why: no text, or a language the model cannot read
            why = "not scored (no text)" if r.note in (None, NO_TEXT_NOTE) else r.note
            top = f"[dim]{escape(why or '')}[/dim]"
        else:
            top = "  ".join(f"{a} {v:.2f}" for a, v in r.scores.top(2 if wide else 1))
        reasons = ", ".join(dict.fromkeys(x.attribute for x in r.decision.reasons))
        action = r.decision.action + (f" ({reasons})" if reasons else "")
        opening = escape(_opening(r.comment.text, 120)) or "[dim](attachments only)[/dim]"
        if r.comment.attachments and r.comment.text:
            opening += f" [dim]+{len(r.comment.attachments)} attachment(s)[/dim]"
        table.add_row(
            r.comment.id,
            escape(r.comment.author or "anonymous"),
            opening,
            top,
            f"[{_ACTION_STYLE[r.decision.action]}]{escape(action)}[/]",
        )
    console.print(table)
    console.print(analysis.summary(), highlight=False, markup=False, soft_wrap=True)


def _scores_json(text: str, scores: Scores) -> dict[str, Any]:
    return {
        "scores": {a: round(v, 6) for a, v in scores.values.items()},
        "spans": {
            a: [
                {"begin": s.begin, "end": s.end, "score": s.score, "text": text[s.begin : s.end]}
                for s in spans
            ]
            for a, spans in scores.spans.items()
            if spans
        },
    }


def analysis_dict(analysis: Analysis) -> dict[str, Any]:
    """The whole analysis as plain JSON-able data."""
    article = analysis.thread.article
    comments = []
    for r in analysis.results:
        c = r.comment
        item: dict[str, Any] = {
            "id": c.id,
            "author": c.author,
            "text": c.text,
            "parent_id": c.parent_id,
            "created_at": c.created_at,
            "attachments": list(c.attachments),
        }
        if r.scores is not None:
            item.update(_scores_json(c.text, r.scores))
        item["decision"] = r.decision.as_dict(ndigits=6)
        item["decision"].pop("note", None)  # the comment's note, below
        if r.note:
            item["note"] = r.note
        comments.append(item)
    return {
        "model_version": analysis.model_version,
        "policy": analysis.policy,
        "article": None
        if article is None
        else {
            "title": article.title,
            "paragraphs": list(article.paragraphs),
            "url": article.url,
        },
        "comments": comments,
        "summary": {
            "text": analysis.summary(),
            **{k: analysis.counts()[k] for k in ("approve", "hold", "reject")},
        },
    }


def to_json(analysis: Analysis) -> str:
    return json.dumps(analysis_dict(analysis), ensure_ascii=False, indent=2)


def highlight_segments(
    text: str, scores: Scores | None, decision: Decision | None = None
) -> list[dict[str, Any]]:
    """``civility.highlight.segments`` of a comment, as plain data (text, score, label)."""
    if scores is None:
        return [{"text": text, "score": 0.0, "label": ""}]
    deciding = decision.attributes if decision is not None else ()
    return [
        {"text": seg.text, "score": seg.score, "label": seg.label}
        for seg in segments(text, scores.spans, scores.values, deciding)
    ]


def check_writable(path: Path) -> None:
    """Fail before the work, not after it, when a report cannot be written to ``path``."""
    if path.is_dir():
        raise InvalidInput(f"Cannot write the report to {path}: it is a directory.")
    if not path.parent.is_dir():
        raise InvalidInput(f"Cannot write the report to {path}: {path.parent} is not a directory.")


def write_html(analysis: Analysis, path: Path) -> None:
    """A self-contained HTML report: highlighted spans and a chart of the thread's scores."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(
        (resources.files("civility") / "templates" / "report.html").read_text("utf-8")
    )
    rows = []
    for r in analysis.results:
        worst = r.worst
        rows.append(
            {
                "r": r,
                "segments": highlight_segments(r.comment.text, r.scores, r.decision),
                "worst": worst,
                "top": r.scores.top(4) if r.scores else [],
            }
        )
    html = template.render(analysis=analysis, rows=rows, summary=analysis.summary())
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot write the report to {path}: {exc.strerror}.") from None


# ---------------------------------------------------------------- civility score


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def stdin_texts(data: str) -> list[str]:
    """The texts on stdin: JSONL with a ``text`` field when the first non-blank line is a JSON
    object (or begins like one, ``{"``), else one text per line. Blank lines are skipped; in
    JSONL, a line that is not an object with a string ``text`` is an error naming the line (a
    truncated line included, the first as well: it is never scored as a text)."""
    lines = [(n, line.rstrip("\r")) for n, line in enumerate(data.split("\n"), start=1)]
    lines = [(n, line) for n, line in lines if line.strip()]
    if not lines or (
        _json_object(lines[0][1]) is None and not lines[0][1].lstrip().startswith('{"')
    ):
        return [line for _, line in lines]
    texts = []
    for number, line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"stdin, line {number}: not valid JSON ({exc.msg}).") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InvalidInput(f"stdin, line {number}: expected an object with a string 'text'.")
        texts.append(record["text"])
    return texts


def score_texts(
    text: str,
    stdin: IO[str],
    *,
    model_dir: Path | None = None,
    spans: bool = False,
    scorer: Scorer | None = None,
) -> list[tuple[str, Scores]]:
    """Score ``text``, or every text on ``stdin`` when ``text`` is ``-``, with ``scorer``
    (default: the model in ``model_dir``, loaded once the texts are read)."""
    if text == "-":
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
        texts = stdin_texts(decode(raw, "stdin"))
    else:
        texts = [text]
    if not texts or not any(t.strip() for t in texts):
        raise InvalidInput("Nothing to score: the text is empty.")
    if scorer is None:
        scorer = Scorer(model_dir).load()
    return list(zip(texts, scorer.score(texts, spans=spans), strict=True))


_SHORT = {
    "TOXICITY": "TOX",
    "SEVERE_TOXICITY": "SEV",
    "IDENTITY_ATTACK": "IDA",
    "INSULT": "INS",
    "PROFANITY": "PRO",
    "THREAT": "THR",
    "SEXUALLY_EXPLICIT": "SEX",
    "FLIRTATION": "FLI",
    "SPAM": "SPM",
}


def print_scores(
    results: Sequence[tuple[str, Scores]],
    console: Console,
    *,
    as_json: bool,
    adapter: str | None = None,
    site: str | None = None,
) -> None:
    """A table of scores, or one JSON line per text. With ``site`` (``score --site``), each
    JSON line names the ``adapter`` that scored it (``null``: the base model did), and the
    table says it below."""
    if as_json:
        for text, scores in results:
            line: dict[str, Any] = {"text": text, **_scores_json(text, scores)}
            if site is not None:
                line["adapter"] = adapter
            console.out(json.dumps(line, ensure_ascii=False), highlight=False)
        return
    table = Table(caption=" · ".join(f"{_SHORT[a]} {a}" for a in results[0][1].values))
    table.add_column("text")
    for name in results[0][1].values:
        table.add_column(_SHORT[name], justify="right")
    for text, scores in results:
        table.add_row(_opening(text, 40), *(f"{v:.2f}" for v in scores.values.values()))
    console.print(table)
    if site is not None:
        console.print(
            f"Scored with site {site!r}'s adapter {adapter}."
            if adapter
            else f"Site {site!r} has no serving adapter for this model: the model alone scored.",
            markup=False,
            highlight=False,
        )
