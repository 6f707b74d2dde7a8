"""Do the 2026 corpora help? civility's recipe trained on the shipped corpora vs on those plus
the eleven trainable 2026 ones (``civility.train.corpora.EXTENDED_CORPORA``), side by side.

Issue #15 §2 asks for every corpus in training; the guide asks that such a choice be judged by
cross-domain figures. One run prints, for both training sets,

* leave-one-corpus-out TOXICITY ROC AUC for each corpus that labels TOXICITY with both
  classes (for a 2026 corpus, the shipped set never saw it: its "leave-out" model is the one
  trained on the shipped corpora), and the mean over the shipped corpora, over the 2026 ones
  and over all;
* with every head fitted on all train rows: Impermium insult AUC, HateCheck and DynaHate
  accuracy (IDENTITY_ATTACK >= 0.5 = hateful), the news-comment suite per functionality.

    python benchmarks/corpora.py [--data ../shared/data] [--loco a,b,...] [--no-loco]

Each refit on the extended set (about 160k texts) takes minutes (2 cores: 106-206 s for the
TOXICITY head alone, and 23 minutes for every head with other jobs running); the whole run
is two to three hours on 2 cores. ``--loco`` limits the leave-one-out corpora.

Measured (2026-11-30, 2 cores shared with two other jobs; the figures of one run, gathered
corpus by corpus): leave-one-corpus-out TOXICITY, shipped -> extended: civil_comments_spans
0.5891 -> 0.5751, olid2019_train 0.7385 -> 0.7475, wikipedia_toxicity_sample 0.9236 ->
0.9174, davidson2017_tweets 0.8826 -> 0.8992, stormfront2018_sentences 0.7409 -> 0.8223,
toxigen_statements 0.8133 -> 0.7871 (mean of the six 0.7813 -> 0.7914, the gain all from the
hate corpora, the news comments -0.014); ruddit_reddit 0.7852 -> 0.7738, gab_hate_corpus
0.8343 -> 0.8300, edos2023_sexism 0.7812 -> 0.7735 (the 2026 corpora are scored better by the
model that never saw any of them than by one that saw the other ten). Not run for lack of
time: hatexplain, implicit_hate_tweets, sbic2020, hatemoji, convabuse2021,
wikipedia_context_toxicity (the shipped model scores them 0.6982, 0.8050, 0.7111, 0.5872,
0.8976, 0.7632). Every head on the extended set: Impermium TOXICITY 0.7778 -> 0.7874, INSULT
0.8120 -> 0.8152; HateCheck 0.6706 -> 0.6886; DynaHate 0.6013 -> 0.6020; suite 0.6486 ->
0.6558 (veiled threats 0/12 -> 3/12, threats to journalists 2/10 -> 4/10, but condescension
2/10 -> 0/10, spam with links 6/10 -> 2/10, insults without profanity 8/11 -> 6/11). A
variant that keeps the hate-only corpora (gab, edos, implicit hate, hatemoji) out of TOXICITY
(their labels left to IDENTITY_ATTACK and THREAT): civil_comments_spans 0.5863,
toxigen_statements 0.7580, wikipedia_toxicity_sample 0.9095 (worse than the extended set on
two of three). The shipped recipe keeps the shipped corpora until a full run says otherwise.
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

from civility.attributes import NAMES
from civility.train import evaluate as ev
from civility.train.corpora import ALL_CORPORA, EXTENDED_CORPORA, TRAINING_CORPORA
from civility.train.pipeline import fit_model, load_corpora, predictor
from civility.train.suite import PredictScorer, evaluate_suite, load_suite

warnings.filterwarnings("ignore", category=UserWarning)
SETS = ("shipped", "extended")


def _loco(
    frame: pd.DataFrame, training: dict[str, pd.DataFrame], targets: Sequence[str]
) -> dict[str, dict[str, float]]:
    """LOCO TOXICITY AUC per target corpus for each training set."""
    column = NAMES.index("TOXICITY")
    out: dict[str, dict[str, float]] = {name: {} for name in training}
    unseen: dict[str, Any] = {}  # a training set's model for corpora it never holds
    for corpus in targets:
        rows = frame[(frame["corpus"] == corpus) & frame["TOXICITY"].notna()]
        for name, train in training.items():
            if corpus in set(train["corpus"]):
                predict = predictor(
                    fit_model(train[train["corpus"] != corpus], attributes=("TOXICITY",))
                )
            else:
                if name not in unseen:
                    unseen[name] = predictor(fit_model(train, attributes=("TOXICITY",)))
                predict = unseen[name]
            scores = predict(list(rows["text"]))[:, column]
            out[name][corpus] = round(ev.auc(rows["TOXICITY"], scores), 4)
            print(f"  {name:9s} {corpus:28s} {out[name][corpus]:.4f}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path.cwd().parent / "shared" / "data")
    parser.add_argument("--loco", default="", help="comma-separated corpora (default: all)")
    parser.add_argument("--no-loco", action="store_true", help="skip leave-one-corpus-out")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"machine: {os.cpu_count()} CPUs; data: {args.data}")
    frame = load_corpora(args.data, list(ALL_CORPORA))
    train = frame[frame["split"] == "train"]
    shipped = set(TRAINING_CORPORA) | {"civility_templates"}
    training = {"shipped": train[train["corpus"].isin(shipped)], "extended": train}
    for name, part in training.items():
        print(f"{name}: {len(part):,} training texts from {part['corpus'].nunique()} corpora")

    if not args.no_loco:
        labelled = frame[frame["TOXICITY"].notna()]
        both = labelled.groupby("corpus")["TOXICITY"].agg(lambda y: (y > 0.5).nunique() == 2)
        targets = [c for c in sorted(both[both].index) if c != "civility_templates"]
        if args.loco:
            targets = [c for c in targets if c in set(args.loco.split(","))]
        loco = _loco(frame, training, targets)
        print(
            "leave-one-corpus-out TOXICITY ROC AUC" + " " * 14 + "".join(f"{s:>11s}" for s in SETS)
        )
        for corpus in targets:
            print(f"  {corpus:48s}" + "".join(f"{loco[s][corpus]:11.4f}" for s in SETS))
        groups = {
            "mean, shipped corpora": [c for c in targets if c in TRAINING_CORPORA],
            "mean, 2026 corpora": [c for c in targets if c in EXTENDED_CORPORA],
            "mean, all": targets,
        }
        for label, members in groups.items():
            if members:
                means = [float(np.mean([loco[s][c] for c in members])) for s in SETS]
                print(f"  {label:48s}" + "".join(f"{m:11.4f}" for m in means))

    cases = load_suite()
    reports: dict[str, dict[str, Any]] = {}
    for name, part in training.items():
        predict = predictor(fit_model(part), scale="balanced")
        reports[name] = {
            "impermium": ev.impermium(args.data, predict),
            "hatecheck": ev.hatecheck(args.data, predict),
            "dynahate": ev.dynahate(args.data, predict),
            "suite": evaluate_suite(PredictScorer(predict), cases),
        }
        print(f"... {name}: every head fitted and measured", file=sys.stderr)
    print("every head on all train rows" + " " * 22 + "".join(f"{s:>11s}" for s in SETS))
    for label, get in (
        ("impermium TOXICITY AUC", lambda r: r["impermium"]["TOXICITY"]),
        ("impermium INSULT AUC", lambda r: r["impermium"]["INSULT"]),
        ("HateCheck accuracy", lambda r: r["hatecheck"]["overall"]),
        ("DynaHate accuracy", lambda r: r["dynahate"]["overall"] if r["dynahate"] else np.nan),
        ("news-comment suite", lambda r: r["suite"]["overall"]),
    ):
        print(f"  {label:48s}" + "".join(f"{get(reports[s]):11.4f}" for s in SETS))
    for func in sorted(reports["shipped"]["suite"]["per_functionality"]):
        print(
            f"    {func:46s}"
            + "".join(
                f"{reports[s]['suite']['per_functionality'][func]['accuracy']:11.4f}" for s in SETS
            )
        )
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
