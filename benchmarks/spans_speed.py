"""Span explanation speed: texts/s of ``Scorer.score(spans=True)`` with the span tagger
(candidates from one vectorised tagging pass, occlusion only as a fallback) against
occlusion alone (the tagger unloaded), on the same SemEval-2021 posts, and the ratio.

    python benchmarks/spans_speed.py --n 300
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from civility.scorer import Scorer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _rate(scorer: Scorer, texts: list[str]) -> float:
    started = time.perf_counter()
    scorer.score(texts, spans=True)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    texts = (
        pd.read_parquet(DATA / "semeval2021_toxic_spans.parquet")["text"]
        .astype(str)
        .head(args.n)
        .tolist()
    )
    tagged = Scorer().load()
    occlusion = Scorer().load()
    occlusion.tagger_ = None
    with_tagger = _rate(tagged, texts)
    without = _rate(occlusion, texts)
    print(f"texts: {len(texts)}")
    print(f"tagger + faithful check: {with_tagger:8.1f} texts/s")
    print(f"occlusion only:          {without:8.1f} texts/s")
    print(f"ratio (tagger / occlusion): {with_tagger / without:.2f}x")


if __name__ == "__main__":
    main()
