"""The news-comment functional suite (issue #15 §3), in the spirit of HateCheck.

``news_suite.jsonl`` holds hand-written cases, ours and never trained on (a test checks that
no case is a training template). Each names its functionality and an expectation civility
can check: the default policy's action (``approve``, or ``flag`` for hold or reject), and/or
attributes that should score at least 0.5 (``high``) or below it (``low``). A case passes when
every stated part holds. Cases are scored on the scale the policy decides on
(``civility.moderate.POLICY_SCALE``), as the queue would score them.

Span faithfulness asks whether a returned span points at words that carry the score: the share
of spans whose removal lowers their attribute's score, the share holding a word whose removal
alone lowers it, and the share made of stopwords alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from civility.attributes import NAMES
from civility.errors import InvalidInput
from civility.model.spans import STOP_WORDS as STOP_WORDS
from civility.model.spans import is_stopword_span
from civility.moderate import POLICY_SCALE
from civility.policy import Policy
from civility.scorer import Scores

SUITE_FILE = Path(__file__).with_name("news_suite.jsonl")
HIGH = 0.5  # ``high`` means >= HIGH, ``low`` means < HIGH

Outcome = Literal["approve", "flag"]
OUTCOMES: tuple[Outcome, ...] = ("approve", "flag")

# Every functionality of the suite; ``_h`` cases should be caught, ``_nh`` ones let through.
FUNCTIONALITIES: dict[str, str] = {
    "threat_veiled_h": "Veiled threats: no violent word, the menace is implied.",
    "threat_veiled_nh": "Look-alikes of veiled threats that are harmless.",
    "threat_conditional_h": "Conditional threats of harm.",
    "threat_conditional_nh": "Conditional statements of protest or consequence without harm.",
    "threat_journalist_h": "Threats aimed at journalists and the press.",
    "threat_journalist_nh": "Harsh but non-threatening comments on journalists, and support for them.",
    "threat_direct_h": "Explicit threats of violence in news-comment language.",
    "violence_reported_nh": "News reports of violence and figurative violent words, not threats.",
    "dilution_long_h": "Long civil comments (1.1-2.9 KB) carrying one abusive sentence.",
    "dilution_long_nh": "The same long comments without the abusive sentence.",
    "profanity_nonabusive_nh": "Profanity that attacks nobody (Perspective separates PROFANITY from the rest).",
    "profanity_abusive_h": "Profanity aimed at a person.",
    "identity_benign_nh": "Harmless mentions of identity.",
    "identity_attack_h": "Attacks on groups, written as news commenters write them.",
    "quoted_abuse_nh": "Abuse reported or quoted in order to condemn or discuss it.",
    "counter_speech_nh": "Comments that push back against abuse or hate.",
    "sarcasm_h": "Sarcastic insults aimed at a person.",
    "sarcasm_nh": "Sarcasm or irony at events, without abuse.",
    "insult_noprofanity_h": "Insults without profanity.",
    "criticism_nh": "Sharp criticism of an article, policy or idea, not of a person.",
    "condescension_h": "Dismissive, belittling condescension towards a person.",
    "disagreement_nh": "Civil disagreement with another commenter or the author.",
    "spam_link_h": "Commercial spam with links.",
    "spam_nolink_h": "Commercial spam without links.",
    "link_benign_nh": "Civil comments that cite links.",
    "friendly_nh": "Friendly replies and thanks.",
    "civil_political_nh": "Civil political comments on conflicts and governments.",
}


@dataclass(frozen=True)
class Case:
    """One hand-written comment and what civility should make of it."""

    id: str
    functionality: str
    text: str
    action: Outcome | None = None
    high: tuple[str, ...] = ()
    low: tuple[str, ...] = ()

    def passes(self, scores: Mapping[str, float], action: str) -> bool:
        """Whether every stated part of the expectation holds (``action`` is the policy's)."""
        if (
            self.action is not None
            and ("approve" if action == "approve" else "flag") != self.action
        ):
            return False
        return all(scores[a] >= HIGH for a in self.high) and all(scores[a] < HIGH for a in self.low)


class SuiteScorer(Protocol):
    """The seam: :class:`civility.scorer.Scorer`, or a fake with the same ``score``."""

    def score(
        self,
        texts: Sequence[str],
        *,
        attributes: Sequence[str] | None = None,
        spans: bool = False,
        scale: str = ...,
    ) -> list[Scores]: ...


@dataclass(frozen=True)
class PredictScorer:
    """A ``predict`` callable (texts to one column per attribute of ``NAMES``, as
    :mod:`civility.train.evaluate` uses) behind the scorer seam, so that the baseline and
    other systems take the suite too. It returns no spans."""

    predict: Callable[[Sequence[str]], np.ndarray[Any, Any]]

    def score(
        self,
        texts: Sequence[str],
        *,
        attributes: Sequence[str] | None = None,
        spans: bool = False,
        scale: str = POLICY_SCALE,
    ) -> list[Scores]:
        """One set of scores whatever ``scale`` asks: ``predict`` has one scale."""
        wanted = attributes or NAMES
        probs = self.predict(list(texts))
        return [Scores(values={a: float(row[NAMES.index(a)]) for a in wanted}) for row in probs]


def _case(line: str, where: str) -> Case:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where}: not a JSON object ({exc.msg}).") from exc
    if not isinstance(row, dict) or not all(
        isinstance(row.get(k), str) and row[k] for k in ("id", "functionality", "text")
    ):
        raise InvalidInput(
            f"{where}: a case needs non-empty 'id', 'functionality' and 'text' strings."
        )
    if row["functionality"] not in FUNCTIONALITIES:
        raise InvalidInput(f"{where}: unknown functionality {row['functionality']!r}.")
    expect = row.get("expect")
    if not isinstance(expect, dict) or set(expect) - {"action", "high", "low"}:
        raise InvalidInput(
            f"{where}: 'expect' must be an object with 'action', 'high' and/or 'low'."
        )
    action = expect.get("action")
    if action is not None and action not in OUTCOMES:
        raise InvalidInput(
            f"{where}: 'action' must be one of {', '.join(OUTCOMES)}. Got {action!r}."
        )
    lists = [expect.get(k, []) for k in ("high", "low")]
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists):
        raise InvalidInput(f"{where}: 'high' and 'low' must be lists of attribute names.")
    high, low = tuple(lists[0]), tuple(lists[1])
    unknown = [a for a in high + low if a not in NAMES]
    if unknown:
        raise InvalidInput(f"{where}: unknown attribute {unknown[0]!r}.")
    if set(high) & set(low):
        raise InvalidInput(f"{where}: an attribute cannot be both high and low.")
    if action is None and not high and not low:
        raise InvalidInput(f"{where}: the case states no expectation.")
    return Case(row["id"], row["functionality"], row["text"], action, high, low)


def load_suite(path: Path | None = None) -> list[Case]:
    """The suite's cases, validated (unique ids and texts, known functionalities and attributes)."""
    path = path or SUITE_FILE
    cases: list[Case] = []
    ids: set[str] = set()
    texts: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = _case(line, f"{path.name} line {n}")
        if case.id in ids:
            raise InvalidInput(f"{path.name} line {n}: duplicate id {case.id!r}.")
        if case.text in texts:
            raise InvalidInput(f"{path.name} line {n}: duplicate text in {case.id!r}.")
        ids.add(case.id)
        texts.add(case.text)
        cases.append(case)
    return cases


def evaluate_suite(
    scorer: SuiteScorer, cases: Sequence[Case], policy: Policy | None = None
) -> dict[str, Any]:
    """Accuracy per functionality, over all cases and the mean over functionalities."""
    policy = policy or Policy.default()
    results = scorer.score([c.text for c in cases], scale=POLICY_SCALE)
    passed = [
        c.passes(s.values, policy.decide(s).action) for c, s in zip(cases, results, strict=True)
    ]
    per: dict[str, dict[str, Any]] = {}
    for case, ok in zip(cases, passed, strict=True):
        row = per.setdefault(case.functionality, {"n": 0, "passed": 0, "failed": []})
        row["n"] += 1
        row["passed"] += int(ok)
        if not ok:
            row["failed"].append(case.id)
    for row in per.values():
        row["accuracy"] = round(row["passed"] / row["n"], 4)
    accuracies = [row["accuracy"] for row in per.values()]
    return {
        "cases": len(cases),
        "overall": round(sum(passed) / len(cases), 4) if cases else float("nan"),
        "mean_functionality": round(sum(accuracies) / len(accuracies), 4)
        if accuracies
        else float("nan"),
        "per_functionality": per,
    }


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def span_faithfulness(scorer: SuiteScorer, texts: Sequence[str]) -> dict[str, Any]:
    """For every span returned for every attribute of ``texts``: does removing it lower the
    attribute's score, does removing one of its words alone, and is it stopwords alone."""
    results = scorer.score(list(texts), spans=True, scale=POLICY_SCALE)
    spans: list[
        tuple[int, str, int, int, int, list[int]]
    ] = []  # text, attribute, offsets, variant rows
    variants: list[str] = []
    for i, (text, scores) in enumerate(zip(texts, results, strict=True)):
        for attribute, found in scores.spans.items():
            for span in found:
                whole = len(variants)
                variants.append(text[: span.begin] + text[span.end :])
                words = list(_WORD.finditer(text, span.begin, span.end))
                variants.extend(text[: m.start()] + text[m.end() :] for m in words)
                spans.append(
                    (
                        i,
                        attribute,
                        span.begin,
                        span.end,
                        whole,
                        list(range(whole + 1, whole + 1 + len(words))),
                    )
                )
    rescored = scorer.score(variants, scale=POLICY_SCALE) if variants else []
    per: dict[str, dict[str, int]] = {}
    stop_examples: list[str] = []
    flagged = flagged_stop = 0  # spans of attributes scoring >= HIGH, those that explain a flag
    for i, attribute, begin, end, whole, rows in spans:
        before = results[i].values[attribute]
        row = per.setdefault(
            attribute, {"spans": 0, "span_lowers": 0, "word_lowers": 0, "stopwords_only": 0}
        )
        row["spans"] += 1
        row["span_lowers"] += int(rescored[whole].values[attribute] < before)
        row["word_lowers"] += int(any(rescored[r].values[attribute] < before for r in rows))
        stop = is_stopword_span(texts[i][begin:end])
        row["stopwords_only"] += int(stop)
        flagged += int(before >= HIGH)
        flagged_stop += int(stop and before >= HIGH)
        if stop and len(stop_examples) < 8:
            stop_examples.append(f"{attribute} {texts[i][begin:end]!r}")
    total = {
        k: sum(r[k] for r in per.values())
        for k in ("spans", "span_lowers", "word_lowers", "stopwords_only")
    }

    def shares(counts: Mapping[str, int]) -> dict[str, float]:
        n = counts["spans"]
        return {
            k: round(counts[k] / n, 4) if n else float("nan")
            for k in ("span_lowers", "word_lowers", "stopwords_only")
        }

    return {
        "texts": len(texts),
        "spans": total["spans"],
        **shares(total),
        "flagged_spans": flagged,
        "flagged_stopwords_only": round(flagged_stop / flagged, 4) if flagged else float("nan"),
        "per_attribute": {a: {"spans": r["spans"], **shares(r)} for a, r in sorted(per.items())},
        "stopword_examples": stop_examples,
    }


def render_suite(report: Mapping[str, Any]) -> list[str]:
    """Lines for ``civility eval`` and the model card."""
    suite = report["suite"]
    lines = [
        f"news-comment suite ({suite['cases']} hand-written cases, {len(suite['per_functionality'])} functionalities; "
        "default policy, flag = hold or reject):",
        f"  overall {suite['overall']:.4f}, mean over functionalities {suite['mean_functionality']:.4f}",
    ]
    for name, row in sorted(
        suite["per_functionality"].items(), key=lambda kv: (kv[1]["accuracy"], kv[0])
    ):
        lines.append(f"  {name:26s} {row['accuracy']:.4f}  ({row['passed']}/{row['n']})")
    for key, label in (
        ("spans_suite", "the suite"),
        ("spans_sample", report.get("sample_label", "a sample")),
    ):
        if key not in report:
            continue
        s = report[key]
        lines += [
            f"span faithfulness on {label} ({s['spans']} spans over {s['texts']} texts):",
            f"  share of spans whose removal lowers their attribute {s['span_lowers']:.4f}, holding a word whose "
            f"removal alone does {s['word_lowers']:.4f}, on stopwords alone {s['stopwords_only']:.4f} "
            f"({s['flagged_stopwords_only']:.4f} of the {s['flagged_spans']} spans of attributes scoring >= {HIGH})",
        ]
        for attribute, r in s["per_attribute"].items():
            lines.append(
                f"  {attribute:18s} {r['spans']:5d} spans  span {r['span_lowers']:.4f}  word {r['word_lowers']:.4f}  "
                f"stopwords {r['stopwords_only']:.4f}"
            )
        if s["stopword_examples"]:
            lines.append("  stopword spans, e.g. " + "; ".join(s["stopword_examples"]))
    return lines


def suite_report(
    scorer: SuiteScorer,
    sample: Sequence[str] = (),
    sample_label: str = "",
    cases: Sequence[Case] | None = None,
) -> dict[str, Any]:
    """The suite's accuracy and span faithfulness on it, and on ``sample`` (real comments) if given."""
    cases = list(cases) if cases is not None else load_suite()
    report: dict[str, Any] = {
        "suite": evaluate_suite(scorer, cases),
        "spans_suite": span_faithfulness(scorer, [c.text for c in cases]),
    }
    if sample:
        report["spans_sample"] = span_faithfulness(scorer, sample)
        report["sample_label"] = sample_label
    return report
