"""Language detectors on short comments: speed, accuracy, and how often each would refuse a
real English comment under civility's rule (``civility.language.read_as``).

Candidates: lingua (low- and high-accuracy modes, restricted to ``civility.language.LANGUAGES``),
py3langid (restricted to the same languages) and CLD2 (``pycld2``). Those not installed are
skipped (``pip install py3langid pycld2`` to compare them; only lingua is a dependency).

Texts: ``benchmarks/language_samples.tsv`` (hand-written short comments in 9 languages besides
English, very short texts and mostly English texts with a foreign phrase) and up to ``--n``
real English comments of at most ``--max-chars`` characters from ../shared/data (news
comments, Reddit, tweets).

    python benchmarks/language.py --n 5000
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from civility.language import LANGUAGES, detect_all, read_as

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data"
ENGLISH_FILES = (
    "civil_comments_spans.parquet",
    "impermium2012_insults.parquet",
    "ruddit_reddit.parquet",
    "davidson2017_tweets.parquet",
)

Ranker = Callable[[Sequence[str]], list[list[tuple[str, float]]]]


def _lingua(high: bool) -> Ranker:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    # lingua names Norwegian by its written standard (Bokmål); py3langid calls it "no".
    codes = ["nb" if c == "no" else c for c in LANGUAGES]
    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    builder = LanguageDetectorBuilder.from_languages(*langs)
    detector = (builder if high else builder.with_low_accuracy_mode()).build()

    def rank(texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        found = detector.compute_language_confidence_values_in_parallel(list(texts))
        return [
            [(_no(v.language.iso_code_639_1.name.lower()), float(v.value)) for v in values]
            for values in found
        ]

    return rank


def _no(code: str) -> str:
    return "no" if code == "nb" else code


def _py3langid() -> Ranker:
    """civility's own detector (``civility.language.detect_all``)."""

    def rank(texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        return [list(d.ranked) for d in detect_all(texts)]

    return rank


def _cld2() -> Ranker:
    import pycld2

    def one(text: str) -> list[tuple[str, float]]:
        try:
            reliable, _, details = pycld2.detect(text, bestEffort=True)
        except pycld2.error:
            return []
        # CLD2 gives each language's share of the text; an unreliable answer counts for half.
        scale = 1.0 if reliable else 0.5
        return [(code, scale * pct / 100) for _, code, pct, _ in details if code != "un" and pct]

    def rank(texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        return [one(t) for t in texts]

    return rank


CANDIDATES: dict[str, Callable[[], Ranker]] = {
    "lingua (low accuracy)": lambda: _lingua(False),
    "lingua (high accuracy)": lambda: _lingua(True),
    "py3langid (civility's detector)": _py3langid,
    "cld2": _cld2,
}


def _samples() -> list[tuple[str, str, str]]:
    rows = []
    for line in (HERE / "language_samples.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            lang, kind, text = line.split("\t")
            rows.append((lang, kind, text))
    return rows


def _english(n: int, max_chars: int) -> list[str]:
    texts: list[str] = []
    for name in ENGLISH_FILES:
        column = pd.read_parquet(DATA / name, columns=["text"])["text"].dropna().astype(str)
        texts += [t for t in column if 0 < len(t.strip()) <= max_chars]
    random.Random(13).shuffle(texts)
    return texts[:n]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}% ({part}/{whole})" if whole else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000, help="real English comments")
    parser.add_argument("--max-chars", type=int, default=300)
    parser.add_argument("--show", action="store_true", help="print the refused English texts")
    parser.add_argument(
        "--only", default="", help="measure only candidates whose name contains this"
    )
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.only:
        # Each candidate in a fresh process, so that its memory is its own.
        for name in CANDIDATES:
            extra = ["--show"] if args.show else []
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--n",
                    str(args.n),
                    "--max-chars",
                    str(args.max_chars),
                    "--only",
                    name,
                    "--quiet",
                    *extra,
                ],
                check=True,
            )
        return
    samples = _samples()
    english = _english(args.n, args.max_chars)
    sentences = [(lang, t) for lang, kind, t in samples if kind == "sentence"]
    foreign_short = [(lang, t) for lang, kind, t in samples if kind == "short" and lang != "en"]
    kept = [t for lang, kind, t in samples if lang == "en"]
    if not args.quiet or args.only == next(iter(CANDIDATES)):
        print(
            f"samples: {len(sentences)} foreign sentences, {len(foreign_short)} short foreign texts,"
        )
        print(
            f"         {len(kept)} short or mixed English texts; {len(english)} real English comments"
        )
        print(f"         (at most {args.max_chars} characters)\n")
    for name, make in CANDIDATES.items():
        if args.only not in name:
            continue
        try:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            rank = make()
            rank(["warm up the models"] + [t for _, t in sentences])
        except ImportError:
            print(f"{name}: not installed, skipped\n")
            continue
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        started = time.perf_counter()
        ranked_english = rank(english)
        rate = len(english) / (time.perf_counter() - started)
        ranked_sentences = rank([t for _, t in sentences])
        ranked_short = rank([t for _, t in foreign_short])
        ranked_kept = rank(kept)
        top1 = sum(
            bool(r) and r[0][0] == lang
            for (lang, _), r in zip(sentences, ranked_sentences, strict=True)
        )
        top1_short = sum(
            bool(r) and r[0][0] == lang
            for (lang, _), r in zip(foreign_short, ranked_short, strict=True)
        )
        english_top1 = sum(bool(r) and r[0][0] == "en" for r in ranked_english)
        held = sum(
            read_as(t, r) == lang for (lang, t), r in zip(sentences, ranked_sentences, strict=True)
        )
        refused_kept = [t for t, r in zip(kept, ranked_kept, strict=True) if read_as(t, r) != "en"]
        refused = [
            (t, r[:2])
            for t, r in zip(english, ranked_english, strict=True)
            if read_as(t, r) != "en"
        ]
        print(f"{name}")
        print(f"  speed: {rate:,.0f} texts/s (one process); memory: +{grown:,.0f} MB (peak RSS)")
        print(f"  top-1 right, foreign sentences:     {_pct(top1, len(sentences))}")
        print(f"  top-1 right, short foreign texts:   {_pct(top1_short, len(foreign_short))}")
        print(f"  top-1 'en', real English comments:  {_pct(english_top1, len(english))}")
        print("  under civility's rule:")
        print(f"    foreign sentences held:           {_pct(held, len(sentences))}")
        print(f"    short/mixed English refused:      {_pct(len(refused_kept), len(kept))}")
        print(f"    real English comments refused:    {_pct(len(refused), len(english))}")
        if args.show:
            for t in refused_kept:
                print(f"      sample: {t!r}")
            for t, r in refused:
                print(f"      {r}: {t[:100]!r}")
        print(flush=True)


if __name__ == "__main__":
    main()
