"""Training and measuring the ``SpanTagger`` on SemEval-2021 Task 5 and Toxic Spans data.

The measure is the task's character F1: per post, F1 between the predicted and gold sets of
toxic character offsets (1.0 when both are empty, 0.0 when only one is), averaged over posts.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from civility.model.spans import GENERIC, HEADS, SpanTagger, merge_tokens
from civility.text import Normalized, normalize

SEMEVAL = "semeval2021_toxic_spans.parquet"
CIVIL = "civil_comments_spans.parquet"
TYPED = tuple(h for h in HEADS if h != GENERIC)
_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.15, 0.71, 0.05))
_FALLBACKS = (1.0, 0.3, 0.2, 0.15, 0.1, 0.05, 0.0)
_RELATIVES = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)


def char_f1(predicted: Collection[int], gold: Collection[int]) -> float:
    """SemEval-2021 Task 5 F1 of one post."""
    pred, true = set(predicted), set(gold)
    if not pred and not true:
        return 1.0
    if not pred or not true:
        return 0.0
    hit = len(pred & true)
    if hit == 0:
        return 0.0
    precision, recall = hit / len(pred), hit / len(true)
    return 2 * precision * recall / (precision + recall)


@dataclass
class SpanPost:
    """One post: its tokens, its gold character offsets and its per-head token labels."""

    norm: Normalized
    gold: frozenset[int]
    labels: dict[str, list[int] | None]


def token_labels(norm: Normalized, chars: Collection[int]) -> list[int]:
    """1 for a token at least half of whose characters are in ``chars``."""
    out = []
    for t in norm.tokens:
        inside = sum(1 for k in range(t.begin, t.end) if k in chars)
        out.append(int(inside * 2 >= t.end - t.begin and inside > 0))
    return out


def _semeval_posts(frame: pd.DataFrame) -> list[SpanPost]:
    posts = []
    for text, offsets in zip(frame["text"], frame["spans"], strict=True):
        norm = normalize(str(text))
        gold = frozenset(int(k) for k in offsets)
        labels: dict[str, list[int] | None] = {h: None for h in HEADS}
        labels[GENERIC] = token_labels(norm, gold)
        posts.append(SpanPost(norm, gold, labels))
    return posts


def _civil_post(
    text: str, annotators: int, spans: Sequence[dict[str, Any]], generic: bool
) -> SpanPost:
    """Characters marked by at least half of the annotators; a typed label where that type
    is the (tied) most marked one on the token."""
    norm = normalize(text)
    votes: dict[str, dict[int, set[int]]] = {}
    marked: dict[int, set[int]] = {}
    for s in spans:
        kind = str(s.get("type") or "other")
        who = int(s.get("annotator") or -1)
        for k in range(int(s["begin"]), int(s["end"])):
            marked.setdefault(k, set()).add(who)
            votes.setdefault(kind, {}).setdefault(k, set()).add(who)
    need = max(1, annotators) / 2
    gold = frozenset(k for k, who in marked.items() if len(who) >= need)
    base = token_labels(norm, gold)
    labels: dict[str, list[int] | None] = {GENERIC: base if generic else None}
    for head in TYPED:
        typed = []
        for t, on in zip(norm.tokens, base, strict=True):
            if not on:
                typed.append(0)
                continue
            counts = {
                kind: max((len(per.get(k, ())) for k in range(t.begin, t.end)), default=0)
                for kind, per in votes.items()
            }
            best = max(counts.values(), default=0)
            typed.append(int(best > 0 and counts.get(head, 0) == best))
        labels[head] = typed
    return SpanPost(norm, gold, labels)


def load_span_posts(data_dir: Path) -> tuple[list[SpanPost], list[SpanPost], list[str]]:
    """SemEval posts (generic labels), Toxic Spans posts (typed labels; generic only where
    the text is not a SemEval post) and, per Toxic Spans post, its text (to dedupe)."""
    semeval = pd.read_parquet(data_dir / SEMEVAL).drop_duplicates("text")
    semeval_texts = set(semeval["text"].astype(str))
    civil_posts: list[SpanPost] = []
    civil_texts: list[str] = []
    civil_path = data_dir / CIVIL
    if civil_path.is_file():
        civil = pd.read_parquet(civil_path).drop_duplicates("text")
        for text, annotators, spans in zip(
            civil["text"], civil["annotators"], civil["spans"], strict=True
        ):
            text = str(text)
            civil_posts.append(
                _civil_post(text, int(annotators), list(spans), text not in semeval_texts)
            )
            civil_texts.append(text)
    return _semeval_posts(semeval), civil_posts, civil_texts


def _fit(posts: Sequence[SpanPost], seed: int) -> SpanTagger:
    labels = {h: [p.labels.get(h) for p in posts] for h in HEADS}
    return SpanTagger().fit([p.norm for p in posts], labels, seed=seed)


def _predicted_chars(norm: Normalized, keep: Sequence[int]) -> set[int]:
    chars: set[int] = set()
    for g in merge_tokens(norm, keep):
        chars.update(range(norm.tokens[g[0]].begin, norm.tokens[g[-1]].end))
    return chars


def mean_char_f1(tagger: SpanTagger, posts: Sequence[SpanPost]) -> float:
    probs = tagger.tag_many([p.norm for p in posts])
    scores = [
        char_f1(_predicted_chars(p.norm, tagger.selected(pr[GENERIC])), p.gold)
        for p, pr in zip(posts, probs, strict=True)
    ]
    return float(np.mean(scores)) if scores else 0.0


def tune_threshold(tagger: SpanTagger, posts: Sequence[SpanPost]) -> tuple[float, float, float]:
    """The generic head's (threshold, fallback) that maximise mean char F1 on ``posts``, then,
    given those, its ``relative`` share. In that order, so that the threshold stays the best
    one on its own: the scorer and the typed measure use it without the fallback."""
    probs = [pr[GENERIC] for pr in tagger.tag_many([p.norm for p in posts])]

    def score(threshold: float, fallback: float, relative: float) -> float:
        tagger.threshold[GENERIC], tagger.fallback, tagger.relative = (
            threshold,
            fallback,
            relative,
        )
        return float(
            np.mean(
                [
                    char_f1(_predicted_chars(p.norm, tagger.selected(pr)), p.gold)
                    for p, pr in zip(posts, probs, strict=True)
                ]
            )
        )

    best = (-1.0, 0.5, 1.0)
    for t in _THRESHOLDS:
        for f in _FALLBACKS:
            if f >= t and f != 1.0:
                continue
            got = score(t, f, 1.0)
            if got > best[0]:
                best = (got, t, f)
    top, threshold, fallback = best
    relative = 1.0
    if fallback < 1.0:  # without a fallback nothing is tagged relative to the likeliest token
        for r in _RELATIVES:
            got = score(threshold, fallback, r)
            if got > top:
                top, relative = got, r
    tagger.threshold[GENERIC], tagger.fallback, tagger.relative = threshold, fallback, relative
    return threshold, fallback, relative


def _fit_tuned(semeval: Sequence[SpanPost], extra: Sequence[SpanPost], seed: int) -> SpanTagger:
    """Pick the threshold on a held-out fifth of the SemEval posts (the measure's own kind of
    gold: nearly every post has a span), then refit on everything."""
    order = np.random.default_rng(seed).permutation(len(semeval))
    tune_idx = {int(i) for i in order[: len(semeval) // 5]}
    tune = [semeval[i] for i in sorted(tune_idx)]
    inner = _fit([*(p for i, p in enumerate(semeval) if i not in tune_idx), *extra], seed)
    threshold, fallback, relative = tune_threshold(inner, tune)
    tagger = _fit([*semeval, *extra], seed)
    tagger.threshold[GENERIC], tagger.fallback, tagger.relative = threshold, fallback, relative
    return tagger


def fit_span_tagger(data_dir: Path, seed: int = 0) -> SpanTagger:
    """The tagger trained on all SemEval train+trial posts and the Toxic Spans posts."""
    semeval, civil, _ = load_span_posts(data_dir)
    tagger = _fit_tuned(semeval, civil, seed)
    tagger.metadata = {
        "trained_on": [SEMEVAL, CIVIL],
        "posts": len(semeval) + len(civil),
        "seed": seed,
    }
    return tagger


def write_span_tagger(data_dir: Path, out_dir: Path, seed: int = 0, version: str = "dev") -> Path:
    """Train on all allowed data and save into ``out_dir``; returns the metadata path."""
    tagger = fit_span_tagger(data_dir, seed)
    tagger.version = version
    return tagger.save(out_dir)


def baseline_words(posts: Sequence[SpanPost]) -> set[str]:
    """Words found inside gold spans more often than outside them."""
    inside: dict[str, int] = {}
    total: dict[str, int] = {}
    for p in posts:
        lab = p.labels[GENERIC]
        if lab is None:
            continue
        for t, y in zip(p.norm.tokens, lab, strict=True):
            total[t.norm] = total.get(t.norm, 0) + 1
            inside[t.norm] = inside.get(t.norm, 0) + y
    return {w for w, n in total.items() if inside.get(w, 0) * 2 > n}


def baseline_f1(words: set[str], posts: Sequence[SpanPost]) -> float:
    scores = [
        char_f1(
            _predicted_chars(p.norm, [k for k, t in enumerate(p.norm.tokens) if t.norm in words]),
            p.gold,
        )
        for p in posts
    ]
    return float(np.mean(scores)) if scores else 0.0


def cross_validate_spans(data_dir: Path, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Cross-validated char F1 over SemEval posts, of the tagger and of the word baseline."""
    semeval, civil, civil_texts = load_span_posts(data_dir)
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(semeval)) % folds
    per_fold: list[dict[str, Any]] = []
    for f in range(folds):
        test = [p for p, k in zip(semeval, fold_of, strict=True) if k == f]
        train = [p for p, k in zip(semeval, fold_of, strict=True) if k != f]
        test_texts = {p.norm.original for p in test}
        extra = [p for p, t in zip(civil, civil_texts, strict=True) if t not in test_texts]
        started = time.perf_counter()
        tagger = _fit_tuned(train, extra, seed)
        seconds = time.perf_counter() - started
        per_fold.append(
            {
                "fold": f,
                "test_posts": len(test),
                "train_posts": len(train) + len(extra),
                "f1": mean_char_f1(tagger, test),
                "baseline_f1": baseline_f1(baseline_words(train), test),
                "threshold": tagger.threshold[GENERIC],
                "fallback": tagger.fallback,
                "relative": tagger.relative,
                "fit_seconds": seconds,
            }
        )
    return {
        "folds": per_fold,
        "f1": float(np.mean([r["f1"] for r in per_fold])),
        "baseline_f1": float(np.mean([r["baseline_f1"] for r in per_fold])),
    }


def _typed_gold(post: SpanPost, head: str) -> set[int]:
    labels = post.labels.get(head) or []
    return _predicted_chars(post.norm, [k for k, on in enumerate(labels) if on])


def cross_validate_typed_spans(data_dir: Path, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Cross-validated char F1 of the typed heads (insult, threat, identity_attack, profane)
    on Toxic Spans posts, whose annotators typed each span.

    Per head, two candidates for the attribute's spans are measured against that type's gold
    characters: the typed head's tokens, falling back to the generic head's where it marks
    none (what the scorer proposes), and the generic head's alone (the comparison: do typed
    heads find *that* attribute's words better than the generic toxic ones?). F1 is averaged
    over the posts holding gold of the type (``f1``) and over every test post (``f1_all``,
    SemEval's definition, where a post without gold scores 1.0 only when nothing is marked).
    """
    semeval, civil, civil_texts = load_span_posts(data_dir)
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(civil)) % folds
    sums: dict[str, dict[str, list[float]]] = {
        h: {k: [] for k in ("typed", "generic", "typed_all", "generic_all")} for h in TYPED
    }
    for f in range(folds):
        test = [p for p, k in zip(civil, fold_of, strict=True) if k == f]
        train = [p for p, k in zip(civil, fold_of, strict=True) if k != f]
        test_texts = {t for t, k in zip(civil_texts, fold_of, strict=True) if k == f}
        tagger = _fit_tuned([p for p in semeval if p.norm.original not in test_texts], train, seed)
        probs = tagger.tag_many([p.norm for p in test])
        for p, pr in zip(test, probs, strict=True):
            generic = tagger.selected(pr[GENERIC], GENERIC, fallback=False)
            for head in TYPED:
                gold = _typed_gold(p, head)
                typed = tagger.selected(pr[head], head, fallback=False) if head in pr else []
                got_typed = char_f1(_predicted_chars(p.norm, typed or generic), gold)
                got_generic = char_f1(_predicted_chars(p.norm, generic), gold)
                sums[head]["typed_all"].append(got_typed)
                sums[head]["generic_all"].append(got_generic)
                if gold:
                    sums[head]["typed"].append(got_typed)
                    sums[head]["generic"].append(got_generic)
    return {
        head: {
            "posts": len(v["typed"]),
            "f1": float(np.mean(v["typed"])) if v["typed"] else 0.0,
            "generic_f1": float(np.mean(v["generic"])) if v["generic"] else 0.0,
            "f1_all": float(np.mean(v["typed_all"])),
            "generic_f1_all": float(np.mean(v["generic_all"])),
        }
        for head, v in sums.items()
    }
