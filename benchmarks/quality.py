"""Quality, side by side: the classic baseline, civility's method and alt-profanity-check.

One run trains, on the same splits of ../shared/data,

* the classic baseline: TF-IDF word 1-2-grams + character 2-5-grams of the raw lower-cased
  text, one logistic regression per attribute over all corpora, no reweighting;
* civility's method (``civility.train.pipeline.fit_model``);

and scores alt-profanity-check's ``predict_prob`` on the same texts. It prints the held-out
in-domain AUC, the leave-one-corpus-out TOXICITY AUC per corpus (the number that predicts
behaviour on a publisher we have never seen), Impermium insult AUC, HateCheck accuracy,
identity-bias metrics, the news-comment suite's accuracy and toxic-span F1.

    python benchmarks/quality.py [--data ../shared/data] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from civility.attributes import NAMES
from civility.train import evaluate as ev
from civility.train.pipeline import fit_model, load_corpora, predictor
from civility.train.spans import cross_validate_spans
from civility.train.suite import PredictScorer, evaluate_suite, load_suite

warnings.filterwarnings("ignore", category=UserWarning)


def fit_baseline(frame: pd.DataFrame, attributes: Sequence[str] = NAMES) -> ev.Predict:
    """The classic recipe, as a new user would try it."""
    frame = frame[frame["corpus"] != "civility_templates"]
    word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=200_000, sublinear_tf=True)
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=3, max_features=200_000, sublinear_tf=True
    )
    texts = list(frame["text"])
    x = sp.hstack([word.fit_transform(texts), char.fit_transform(texts)], format="csr")
    heads: dict[int, LogisticRegression] = {}
    for name in attributes:
        y = frame[name].to_numpy(dtype=float)
        known = ~np.isnan(y)
        if known.sum() and len(np.unique(y[known] > 0.5)) == 2:
            heads[NAMES.index(name)] = LogisticRegression(
                C=4.0, solver="liblinear", max_iter=1000
            ).fit(x[known], y[known] > 0.5)

    def run(texts: Sequence[str]) -> np.ndarray[Any, Any]:
        xt = sp.hstack([word.transform(texts), char.transform(texts)], format="csr")
        out = np.full((len(texts), len(NAMES)), np.nan)
        for j, clf in heads.items():
            out[:, j] = clf.predict_proba(xt)[:, 1]
        return out

    return run


def profanity_check(texts: Sequence[str]) -> np.ndarray[Any, Any]:
    """alt-profanity-check's one probability, offered for every attribute."""
    from profanity_check import predict_prob

    p = np.asarray(predict_prob(list(texts)), dtype=float)
    return np.repeat(p[:, None], len(NAMES), axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path.cwd().parent / "shared" / "data")
    parser.add_argument(
        "--quick", action="store_true", help="subsample each corpus to 1,500 rows (smoke run)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"machine: {os.cpu_count()} CPUs; data: {args.data}")

    frame = load_corpora(args.data)
    if args.quick:
        # pandas 3's groupby().apply() drops the grouping column, so sample each corpus apart.
        frame = pd.concat(
            [g.sample(min(len(g), 1500), random_state=0) for _, g in frame.groupby("corpus")],
            ignore_index=True,
        )
    train = frame[frame["split"] == "train"]

    civility_model = fit_model(train)
    systems: dict[str, ev.Predict] = {
        "baseline": fit_baseline(train),
        "civility": predictor(civility_model),
        "profanity-check": profanity_check,
    }
    fits: dict[str, ev.Fit] = {
        "baseline": lambda t: fit_baseline(t, ("TOXICITY",)),
        "civility": lambda t: predictor(fit_model(t, attributes=("TOXICITY",))),
        "profanity-check": lambda t: profanity_check,
    }
    rows: dict[str, dict[str, Any]] = {}
    cases = load_suite()
    for name, predict in systems.items():
        report: dict[str, Any] = {
            "in_domain": ev.in_domain(frame, predict),
            "loco": ev.leave_one_corpus_out(frame, fits[name]),
            "impermium": ev.impermium(args.data, predict),
            "hatecheck": ev.hatecheck(
                args.data, predict, "TOXICITY" if name != "civility" else "IDENTITY_ATTACK"
            ),
            "bias": ev.bias(predict),
            "news_suite": evaluate_suite(PredictScorer(predict), cases),
        }
        rows[name] = report
        print(f"... {name} measured ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    names = list(rows)
    width = 30

    def line(label: str, values: Sequence[str]) -> None:
        print(f"{label:{width}s}" + "".join(f"{v:>17s}" for v in values))

    print()
    line("", names)
    print("in-domain ROC AUC (valid split, mean over corpora)")
    for attr in NAMES:
        line(
            f"  {attr}",
            [f"{rows[n]['in_domain']['mean'].get(attr, float('nan')):.4f}" for n in names],
        )
    print("leave-one-corpus-out TOXICITY ROC AUC")
    for corpus in rows["civility"]["loco"]["per_corpus"]:
        line(
            f"  {corpus}",
            [f"{rows[n]['loco']['per_corpus'].get(corpus, float('nan')):.4f}" for n in names],
        )
    line("  mean", [f"{rows[n]['loco']['mean']:.4f}" for n in names])
    diff = rows["civility"]["loco"]["mean"] - rows["baseline"]["loco"]["mean"]
    print(f"  civility - baseline: {diff:+.4f}")
    print("impermium insults (never trained on) ROC AUC")
    for attr in ("TOXICITY", "INSULT"):
        line(f"  {attr}", [f"{rows[n]['impermium'][attr]:.4f}" for n in names])
    print("HateCheck accuracy (civility: IDENTITY_ATTACK >= 0.5; others: their toxicity >= 0.5)")
    line("  overall", [f"{rows[n]['hatecheck']['overall']:.4f}" for n in names])
    for func in rows["civility"]["hatecheck"]["per_functionality"]:
        line(
            f"  {func}",
            [f"{rows[n]['hatecheck']['per_functionality'][func]['accuracy']:.4f}" for n in names],
        )
    print("identity bias on the templated set (TOXICITY)")
    line("  final metric", [f"{rows[n]['bias']['final_metric']:.4f}" for n in names])
    line(
        "  worst BPSN AUC",
        [
            f"{rows[n]['bias']['worst_bpsn']['auc']:.4f} {rows[n]['bias']['worst_bpsn']['term'][:6]}"
            for n in names
        ],
    )
    print(
        "news-comment suite accuracy (the default policy's thresholds on each system's probabilities)"
    )
    line("  overall", [f"{rows[n]['news_suite']['overall']:.4f}" for n in names])
    line(
        "  mean over functionalities",
        [f"{rows[n]['news_suite']['mean_functionality']:.4f}" for n in names],
    )
    for func in sorted(rows["civility"]["news_suite"]["per_functionality"]):
        line(
            f"  {func}",
            [f"{rows[n]['news_suite']['per_functionality'][func]['accuracy']:.4f}" for n in names],
        )
    spans = cross_validate_spans(args.data, folds=5, seed=0)
    folds = ", ".join(f"{r['f1']:.4f}" for r in spans["folds"])
    print(
        f"toxic spans, SemEval-2021 char F1, 5-fold CV: civility span tagger {spans['f1']:.4f}, "
        f"word baseline {spans['baseline_f1']:.4f} (folds {folds})"
    )
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
