"""Analysing a thread end to end, and showing the result: Rich table, JSON, HTML report.

The library calls (the CLI, the server and the queue use them; none needs the CLI)::

    analysis = analyze_page(Path("page.txt"), policy_file=None, model_dir=None)
    analysis = analyze_thread(thread, Scorer().load(), Policy.default())  # reuse a loaded scorer

An ``Analysis`` holds the ``Thread``, one ``CommentResult`` per comment in page order (the
comment, its ``Scores`` with spans or ``None`` when it has no prose, its ``Decision``), the
policy name and the model version; ``summary()`` is the one-line thread summary and
``analysis_dict()`` the plain-data form that ``--json`` prints. The rest renders an ``Analysis``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, select_autoescape
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from civility import language
from civility.errors import InvalidInput
from civility.ingest import decode, read_thread
from civility.policy import Decision, Policy
from civility.scorer import Scorer, Scores
from civility.thread import Comment, Thread

_RANK = {"approve": 0, "hold": 1, "reject": 2}
NO_TEXT_NOTE = "no text to score (attachments only): held for a moderator"


@dataclass(frozen=True)
class CommentResult:
    """One comment with its scores (``None`` when it has no prose) and its decision."""

    comment: Comment
    scores: Scores | None
    decision: Decision
    note: str | None = None

    @property
    def worst(self) -> tuple[str, float] | None:
        """The attribute that matters most here: the strongest reason of the decision, else
        the highest score (``None`` when the comment was not scored)."""
        if self.decision.reasons:
            return self.decision.reasons[0].attribute, self.decision.reasons[0].score
        return self.scores.top(1)[0] if self.scores and self.scores.values else None


@dataclass(frozen=True)
class Analysis:
    thread: Thread
    results: tuple[CommentResult, ...]
    policy: str
    model_version: str

    def counts(self) -> Counter[str]:
        return Counter(r.decision.action for r in self.results)

    def summary(self) -> str:
        n = len(self.results)
        c = self.counts()
        line = f"{n} comment{'s' if n != 1 else ''}: {c['approve']} approved, {c['hold']} held, {c['reject']} rejected"
        # The worst comment is the one with the strictest decision, then the highest score: a
        # rejected THREAT 0.90 outranks a held PROFANITY 1.00.
        ranked = [
            (_RANK[r.decision.action], worst[1], worst[0], r.comment)
            for r in self.results
            if r.scores is not None and (worst := r.worst) is not None
        ]
        if ranked:
            _, value, attr, comment = max(ranked, key=lambda x: x[:2])
            line += f"; worst: {attr} {value:.2f} by {comment.author or 'anonymous'} ({comment.id})"
        return line


def analyze_thread(thread: Thread, scorer: Scorer, policy: Policy) -> Analysis:
    """Score, explain (spans) and decide every comment of ``thread``, in one batch.

    A comment without prose (only ``comment image`` lines or URL debris) is not scored: it is
    held for a moderator with ``NO_TEXT_NOTE``, since an image or a link may carry anything.
    A comment in a language the model cannot read is held the same way, with the note
    ``language xx not supported`` (``civility.language``).
    """
    with_text = [k for k, c in enumerate(thread.comments) if c.text.strip()]
    reasons = language.unsupported([thread.comments[k].text for k in with_text])
    foreign = {k: r for k, r in zip(with_text, reasons, strict=True) if r is not None}
    scored = [k for k in with_text if k not in foreign]
    found = scorer.score([thread.comments[k].text for k in scored], spans=True)
    by_position = dict(zip(scored, found, strict=True))
    results = []
    for k, c in enumerate(thread.comments):
        s = by_position.get(k)
        if k in foreign:
            results.append(CommentResult(c, None, Decision("hold", note=foreign[k]), foreign[k]))
        elif s is None:
            results.append(CommentResult(c, None, Decision("hold"), NO_TEXT_NOTE))
        else:
            results.append(CommentResult(c, s, policy.decide(s)))
    return Analysis(thread, tuple(results), policy.name, scorer.version)


def analyze_page(
    path: Path | str, policy_file: Path | str | None = None, model_dir: Path | str | None = None
) -> Analysis:
    """Read a page or comment file, then ``analyze_thread`` it with the given policy and model."""
    thread = read_thread(path)
    policy = Policy.load(Path(policy_file)) if policy_file else Policy.default()
    return analyze_thread(thread, Scorer(Path(model_dir) if model_dir else None).load(), policy)


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
            a: [{"begin": s.begin, "end": s.end, "score": s.score, "text": text[s.begin : s.end]} for s in spans]
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
            "id": c.id, "author": c.author, "text": c.text, "parent_id": c.parent_id,
            "created_at": c.created_at, "attachments": list(c.attachments),
        }
        if r.scores is not None:
            item.update(_scores_json(c.text, r.scores))
        item["decision"] = {
            "action": r.decision.action,
            "reasons": [
                {"attribute": x.attribute, "score": round(x.score, 6), "threshold": x.threshold, "action": x.action}
                for x in r.decision.reasons
            ],
        }
        if r.note:
            item["note"] = r.note
        comments.append(item)
    return {
        "model_version": analysis.model_version,
        "policy": analysis.policy,
        "article": None if article is None else {
            "title": article.title, "paragraphs": list(article.paragraphs), "url": article.url,
        },
        "comments": comments,
        "summary": {"text": analysis.summary(), **{k: analysis.counts()[k] for k in ("approve", "hold", "reject")}},
    }


def to_json(analysis: Analysis) -> str:
    return json.dumps(analysis_dict(analysis), ensure_ascii=False, indent=2)


# Which spans a reader sees: those of attributes that decided the comment or scored at least
# SHOWN_ATTRIBUTE_MIN, and among them only spans that move the score by HIGHLIGHT_MIN or more.
# Lower-scoring attributes still have spans (they are in the JSON); highlighting them would
# paint harmless words on every approved comment.
SHOWN_ATTRIBUTE_MIN = 0.3
HIGHLIGHT_MIN = 0.05


def highlight_segments(
    text: str, scores: Scores | None, decision: Decision | None = None
) -> list[dict[str, Any]]:
    """Cut ``text`` into pieces, each with the strongest shown span covering it and its label."""
    if scores is None or not text:
        return [{"text": text, "score": 0.0, "label": ""}]
    deciding = set(decision.attributes) if decision is not None else set()
    level = [0.0] * len(text)
    label = [""] * len(text)
    for attribute, spans in scores.spans.items():
        if attribute not in deciding and scores.values.get(attribute, 0.0) < SHOWN_ATTRIBUTE_MIN:
            continue
        for s in spans:
            if s.score < HIGHLIGHT_MIN:
                continue
            for k in range(max(0, s.begin), min(len(text), s.end)):
                if s.score > level[k]:
                    level[k], label[k] = s.score, f"{attribute} +{s.score:.2f}"
    pieces: list[dict[str, Any]] = []
    start = 0
    for k in range(1, len(text) + 1):
        if k == len(text) or label[k] != label[start]:
            pieces.append({"text": text[start:k], "score": level[start], "label": label[start]})
            start = k
    return pieces


def check_writable(path: Path) -> None:
    """Fail before the work, not after it, when a report cannot be written to ``path``."""
    if path.is_dir():
        raise InvalidInput(f"Cannot write the report to {path}: it is a directory.")
    if not path.parent.is_dir():
        raise InvalidInput(f"Cannot write the report to {path}: {path.parent} is not a directory.")


def write_html(analysis: Analysis, path: Path) -> None:
    """A self-contained HTML report: highlighted spans and a chart of the thread's scores."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string((resources.files("civility") / "templates" / "report.html").read_text("utf-8"))
    rows = []
    for r in analysis.results:
        worst = r.worst
        rows.append({
            "r": r,
            "segments": highlight_segments(r.comment.text, r.scores, r.decision),
            "worst": worst,
            "top": r.scores.top(4) if r.scores else [],
        })
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
    object, else one text per line. Blank lines are skipped; in JSONL, a line that is not an
    object with a string ``text`` is an error naming the line (a truncated last line included)."""
    lines = [(n, line.rstrip("\r")) for n, line in enumerate(data.split("\n"), start=1)]
    lines = [(n, line) for n, line in lines if line.strip()]
    if not lines or _json_object(lines[0][1]) is None:
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
    text: str, stdin: IO[str], *, model_dir: Path | None = None, spans: bool = False
) -> list[tuple[str, Scores]]:
    """Score ``text``, or every text on ``stdin`` when ``text`` is ``-``."""
    if text == "-":
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
        texts = stdin_texts(decode(raw, "stdin"))
    else:
        texts = [text]
    if not texts or not any(t.strip() for t in texts):
        raise InvalidInput("Nothing to score: the text is empty.")
    scorer = Scorer(model_dir).load()
    return list(zip(texts, scorer.score(texts, spans=spans), strict=True))


_SHORT = {
    "TOXICITY": "TOX", "SEVERE_TOXICITY": "SEV", "IDENTITY_ATTACK": "IDA", "INSULT": "INS",
    "PROFANITY": "PRO", "THREAT": "THR", "SEXUALLY_EXPLICIT": "SEX", "FLIRTATION": "FLI", "SPAM": "SPM",
}


def print_scores(results: Sequence[tuple[str, Scores]], console: Console, *, as_json: bool) -> None:
    if as_json:
        for text, scores in results:
            console.out(json.dumps({"text": text, **_scores_json(text, scores)}, ensure_ascii=False), highlight=False)
        return
    table = Table(caption=" · ".join(f"{_SHORT[a]} {a}" for a in results[0][1].values))
    table.add_column("text")
    for name in results[0][1].values:
        table.add_column(_SHORT[name], justify="right")
    for text, scores in results:
        table.add_row(_opening(text, 40), *(f"{v:.2f}" for v in scores.values.values()))
    console.print(table)
