"""Score, then decide: the one flow behind every door (``civility analyze``, the store's
import, ``civility batch`` and the native API).

::

    verdicts = moderate(texts, Scorer().load(), Policy.default())  # one Verdict per text
    analysis = analyze_thread(thread, scorer, policy)  # a thread's comments, as an Analysis
    analysis = analyze_page(Path("page.txt"))  # read a page, then analyze_thread it

The one rule for a text that cannot be scored (``unscorable``), whatever the door:

* no text (not a string, empty or only whitespace: an attachments-only comment, a blank
  batch row) is not scored; it is held for a moderator, with the note ``NO_TEXT_NOTE``;
* a text in a language the model cannot read (``civility.language``) is not scored; it is
  held for a moderator, with the note ``language xx not supported``;
* every other text is scored (on ``POLICY_SCALE``, the class-balanced heads) and the policy
  decides it.

A hold for a language carries its note in the ``Decision`` too (the store and the native API
publish it: the text does not show why it was held); a hold for no text does not, since the
missing text says it. Each door then writes a verdict its own way: ``civility batch`` leaves
a row without text undecided (null decision, counted as empty), and the Perspective API
refuses an empty comment with a 400 before the flow (that is Perspective's wire format).

An ``Analysis`` holds the ``Thread``, one ``CommentResult`` per comment in page order (the
comment, its ``Scores`` with spans or ``None`` when it was not scored, its ``Decision``, the
note), the policy name and the model version; ``summary()`` is the one-line thread summary.
``civility.report`` renders it (table, JSON, HTML).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from civility import language
from civility.ingest import read_thread
from civility.policy import RANK, Decision, Policy
from civility.scorer import Scorer, Scores
from civility.thread import Comment, Thread

NO_TEXT_NOTE = "no text to score (attachments only): held for a moderator"
# The scale every policy decides on: the class-balanced heads. They catch more of what a
# moderator must see (HateCheck accuracy 0.67 with IDENTITY_ATTACK >= 0.5, against 0.38 on
# Perspective's scale, whose IDENTITY_ATTACK head follows Perspective at Spearman 0.58 only), and
# the policies' thresholds were set on them. Perspective's scale is what the Perspective API
# answers, so that a client's own thresholds keep their meaning (see the model card).
POLICY_SCALE = "balanced"


@dataclass(frozen=True)
class Verdict:
    """One text's scores (``None`` when it was not scored), decision and, when it was held
    unscored, why (``NO_TEXT_NOTE`` or ``language xx not supported``)."""

    scores: Scores | None
    decision: Decision
    note: str | None = None


def unscorable(texts: Sequence[object]) -> list[str | None]:
    """For each text, why it cannot be scored (the module's rule), else ``None``."""
    blank = [not isinstance(t, str) or not t.strip() for t in texts]
    readable = [t for t, b in zip(texts, blank, strict=True) if not b and isinstance(t, str)]
    reasons = iter(language.unsupported(readable))
    return [NO_TEXT_NOTE if b else next(reasons) for b in blank]


def held(note: str) -> Decision:
    """The decision for a text held unscored, ``note`` saying why (see the module)."""
    return Decision("hold", note=None if note == NO_TEXT_NOTE else note)


def moderate(
    texts: Sequence[object],
    scorer: Scorer,
    policy: Policy,
    *,
    spans: bool = False,
    attributes: Sequence[str] | None = None,
    calibrate: Callable[[Scores], Scores] | None = None,
    score_held: bool = False,
) -> list[Verdict]:
    """Score every scorable text in one ``Scorer.score`` call, then decide each with ``policy``.

    ``calibrate`` adjusts the scores before the policy reads them (the native API's community
    calibration). With ``score_held`` the texts held unscored are scored too, their decision
    still the hold (the native API answers every text with scores).
    """
    notes = unscorable(texts)
    wanted = [i for i, n in enumerate(notes) if n is None or score_held]
    found = scorer.score(
        [str(texts[i]) for i in wanted], attributes=attributes, spans=spans, scale=POLICY_SCALE
    )
    by_position = dict(zip(wanted, found, strict=True))
    out = []
    for i, note in enumerate(notes):
        s = by_position.get(i)
        if s is not None and calibrate is not None:
            s = calibrate(s)
        if note is not None:
            out.append(Verdict(s, held(note), note))
        else:
            assert s is not None
            out.append(Verdict(s, policy.decide(s)))
    return out


def decide(texts: Sequence[str], scores: Sequence[Scores | None], policy: Policy) -> list[Verdict]:
    """``moderate`` for scores made earlier (``civility analyze --db`` hands its scores to the
    import): a text with scores is decided by ``policy``, one without is held by the rule."""
    notes = iter(unscorable([t for t, s in zip(texts, scores, strict=True) if s is None]))
    out = []
    for s in scores:
        if s is None:
            note = next(notes) or NO_TEXT_NOTE
            out.append(Verdict(None, held(note), note))
        else:
            out.append(Verdict(s, policy.decide(s)))
    return out


@dataclass(frozen=True)
class CommentResult:
    """One comment with its scores (``None`` when it was not scored) and its decision."""

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
            (RANK[r.decision.action], worst[1], worst[0], r.comment)
            for r in self.results
            if r.scores is not None and (worst := r.worst) is not None
        ]
        if ranked:
            _, value, attr, comment = max(ranked, key=lambda x: x[:2])
            line += f"; worst: {attr} {value:.2f} by {comment.author or 'anonymous'} ({comment.id})"
        return line


def analyze_thread(thread: Thread, scorer: Scorer, policy: Policy) -> Analysis:
    """Score, explain (spans) and decide every comment of ``thread``, in one batch; a comment
    that cannot be scored is held by the module's rule (its note on the ``CommentResult``)."""
    verdicts = moderate([c.text for c in thread.comments], scorer, policy, spans=True)
    results = tuple(
        CommentResult(c, v.scores, v.decision, v.note)
        for c, v in zip(thread.comments, verdicts, strict=True)
    )
    return Analysis(thread, results, policy.name, scorer.version)


def analyze_page(
    path: Path | str, policy_file: Path | str | None = None, model_dir: Path | str | None = None
) -> Analysis:
    """Read a page or comment file, then ``analyze_thread`` it with the given policy and model."""
    thread = read_thread(path)
    policy = Policy.load(Path(policy_file)) if policy_file else Policy.default()
    return analyze_thread(thread, Scorer(Path(model_dir) if model_dir else None).load(), policy)
