"""Honest evaluation: held-out splits, leave-one-corpus-out, HateCheck, identity bias, spans
(the news-comment suite lives in :mod:`civility.train.suite`).

Every function takes a ``predict`` callable (texts → array of probabilities, one column per
attribute in ``NAMES`` order) or a ``fit`` callable (frame → predict), so the same code
measures civility's model, the classic baseline and anything else side by side.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from civility.attributes import NAMES
from civility.train.suite import render_suite

Predict = Callable[[Sequence[str]], np.ndarray[Any, Any]]
Fit = Callable[[pd.DataFrame], Predict]


def auc(
    y: Sequence[float] | np.ndarray[Any, Any], score: Sequence[float] | np.ndarray[Any, Any]
) -> float:
    """ROC AUC, or NaN when only one class is present."""
    y = np.asarray(y) > 0.5
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, np.asarray(score)))


def in_domain(frame: pd.DataFrame, predict: Predict) -> dict[str, Any]:
    """AUC per (corpus, attribute) on the ``valid`` rows, and the mean per attribute."""
    valid = frame[(frame["split"] == "valid")]
    probs = predict(list(valid["text"]))
    per: dict[str, dict[str, float]] = {}
    for corpus in sorted(valid["corpus"].unique()):
        rows = (valid["corpus"] == corpus).to_numpy()
        for j, name in enumerate(NAMES):
            y = valid.loc[rows, name].to_numpy(dtype=float)
            known = ~np.isnan(y)
            value = auc(y[known], probs[rows][known, j]) if known.any() else float("nan")
            if not np.isnan(value):
                per.setdefault(corpus, {})[name] = round(value, 4)
    means = {
        name: round(float(np.mean(vals)), 4)
        for name in NAMES
        if (vals := [v[name] for v in per.values() if name in v])
    }
    return {"per_corpus": per, "mean": means}


def leave_one_corpus_out(
    frame: pd.DataFrame, fit: Fit, attribute: str = "TOXICITY"
) -> dict[str, Any]:
    """Train without corpus K (its train rows and every other corpus's train rows), score K."""
    results: dict[str, float] = {}
    labelled = frame[frame[attribute].notna()]
    for corpus in sorted(labelled["corpus"].unique()):
        if corpus == "civility_templates":
            continue
        rows = labelled[labelled["corpus"] == corpus]
        if rows[attribute].nunique() < 2:
            continue
        train = frame[(frame["corpus"] != corpus) & (frame["split"] == "train")]
        predict = fit(train)
        column = NAMES.index(attribute)
        results[corpus] = round(auc(rows[attribute], predict(list(rows["text"]))[:, column]), 4)
    return {
        "attribute": attribute,
        "per_corpus": results,
        "mean": round(float(np.mean(list(results.values()))), 4),
    }


def impermium(data_dir: Path, predict: Predict) -> dict[str, float]:
    """AUC on Impermium's insult set (news and forum commentary, never trained on)."""
    df = pd.read_parquet(data_dir / "impermium2012_insults.parquet")
    probs = predict(list(df["text"]))
    return {
        name: round(auc(df["insult"], probs[:, NAMES.index(name)]), 4)
        for name in ("TOXICITY", "INSULT")
    }


def hatecheck(
    data_dir: Path, predict: Predict, attribute: str = "IDENTITY_ATTACK", threshold: float = 0.5
) -> dict[str, Any]:
    """HateCheck accuracy (``attribute`` ≥ ``threshold`` means hateful), overall and per functionality."""
    df = pd.read_parquet(data_dir / "hatecheck.parquet")
    hateful = predict(list(df["text"]))[:, NAMES.index(attribute)] >= threshold
    correct = hateful == (df["label_gold"] == "hateful").to_numpy()
    per = (
        pd.Series(correct)
        .groupby(df["functionality"].to_numpy())
        .agg(["mean", "size"])
        .sort_values("mean")
    )
    return {
        "attribute": attribute,
        "overall": round(float(correct.mean()), 4),
        "per_functionality": {
            str(k): {"accuracy": round(float(r["mean"]), 4), "n": int(r["size"])}
            for k, r in per.iterrows()
        },
    }


def dynahate(
    data_dir: Path, predict: Predict, attribute: str = "IDENTITY_ATTACK", threshold: float = 0.5
) -> dict[str, Any] | None:
    """HateCheck-style accuracy on DynaHate's dev and test statements (evaluation only: its
    licence is not stated), overall, per ``type`` of hate (and "none" for the not-hateful
    ones, which include plain abuse) and for original statements vs their perturbations.
    ``None`` when the file is not in ``data_dir``."""
    path = data_dir / "dynahate2021.parquet"
    if not path.is_file():
        return None
    df = pd.read_parquet(path)
    hateful = predict(list(df["text"]))[:, NAMES.index(attribute)] >= threshold
    correct = pd.Series(hateful == (df["label"] == "hate").to_numpy())

    def grouped(by: pd.Series) -> dict[str, dict[str, float | int]]:
        per = correct.groupby(by.astype(str).to_numpy()).agg(["mean", "size"]).sort_values("mean")
        return {
            str(k): {"accuracy": round(float(r["mean"]), 4), "n": int(r["size"])}
            for k, r in per.iterrows()
        }

    return {
        "attribute": attribute,
        "overall": round(float(correct.mean()), 4),
        "per_type": grouped(df["type"]),
        "per_level": grouped(df["level"]),
    }


# The bias set: templates written for evaluation only, kept apart from the training templates
# of civility.train.synthetic (a test checks that no sentence is shared).
BIAS_TERMS = (
    "muslim",
    "jewish",
    "christian",
    "hindu",
    "buddhist",
    "sikh",
    "atheist",
    "black",
    "white",
    "asian",
    "latino",
    "hispanic",
    "arab",
    "african",
    "mexican",
    "chinese",
    "indian",
    "american",
    "european",
    "gay",
    "lesbian",
    "bisexual",
    "queer",
    "trans",
    "transgender",
    "straight",
    "heterosexual",
    "homosexual",
    "nonbinary",
    "deaf",
    "blind",
    "disabled",
    "old",
    "young",
    "elderly",
    "teenage",
    "immigrant",
    "refugee",
    "catholic",
    "protestant",
    "male",
    "female",
)
BIAS_CLEAN = (
    "{t} is a word that describes me",
    "I am {t} and I like to cook",
    "being {t} is fine",
    "my sister is {t}",
    "we welcomed a {t} family to the street",
    "the speaker at the library was {t}",
    "a {t} scientist won the award",
    "I met a {t} teacher at the conference",
)
BIAS_TOXIC = (
    "{t} people are disgusting",
    "I hate all {t} people",
    "you are a stupid {t} idiot",
    "{t} people are worthless trash",
    "shut up, you pathetic {t} loser",
    "every {t} person is a moron",
    "{t} people are filthy animals",
    "get lost you ugly {t} freak",
)


def bias_frame() -> pd.DataFrame:
    rows = [
        {"text": tpl.format(t=t), "term": t, "toxic": toxic}
        for (templates, toxic), t in itertools.product(
            ((BIAS_CLEAN, 0), (BIAS_TOXIC, 1)), BIAS_TERMS
        )
        for tpl in templates
    ]
    return pd.DataFrame(rows)


def _power_mean(values: Sequence[float], p: float = -5.0) -> float:
    arr = np.asarray([v for v in values if not np.isnan(v)], dtype=float)
    return float(np.power(np.mean(np.power(arr, p)), 1.0 / p))


def bias(predict: Predict, attribute: str = "TOXICITY") -> dict[str, Any]:
    """Subgroup, BPSN and BNSP AUC per identity term (Borkan et al. 2019) and the final
    generalised-mean metric of the Jigsaw Unintended Bias competition."""
    df = bias_frame()
    score = predict(list(df["text"]))[:, NAMES.index(attribute)]
    y = df["toxic"].to_numpy()
    overall = auc(y, score)
    per: dict[str, dict[str, float]] = {}
    for term in BIAS_TERMS:
        sub = (df["term"] == term).to_numpy()
        bpsn = (sub & (y == 0)) | (~sub & (y == 1))
        bnsp = (sub & (y == 1)) | (~sub & (y == 0))
        per[term] = {
            "subgroup_auc": round(auc(y[sub], score[sub]), 4),
            "bpsn_auc": round(auc(y[bpsn], score[bpsn]), 4),
            "bnsp_auc": round(auc(y[bnsp], score[bnsp]), 4),
        }
    final = 0.25 * overall + 0.25 * sum(
        _power_mean([v[m] for v in per.values()]) for m in ("subgroup_auc", "bpsn_auc", "bnsp_auc")
    )
    worst = min(per, key=lambda t: per[t]["bpsn_auc"])
    return {
        "attribute": attribute,
        "overall_auc": round(overall, 4),
        "final_metric": round(final, 4),
        "worst_bpsn": {"term": worst, "auc": per[worst]["bpsn_auc"]},
        "per_term": per,
    }


def render(report: dict[str, Any]) -> str:
    """A plain-text report (for the terminal and the model card)."""
    lines: list[str] = []
    if "in_domain" in report:
        lines.append("held-out (valid split) ROC AUC, mean over corpora:")
        for name, value in report["in_domain"]["mean"].items():
            lines.append(f"  {name:18s} {value:.4f}")
    if "loco" in report:
        loco = report["loco"]
        lines.append(
            f"leave-one-corpus-out {loco['attribute']} AUC (train on the others, score this one):"
        )
        for corpus, value in loco["per_corpus"].items():
            lines.append(f"  {corpus:28s} {value:.4f}")
        lines.append(f"  {'mean':28s} {loco['mean']:.4f}")
    if "impermium" in report:
        imp = report["impermium"]
        lines.append(
            f"impermium insults (news/forum, never trained on) AUC: TOXICITY {imp['TOXICITY']:.4f}, INSULT {imp['INSULT']:.4f}"
        )
    if "hatecheck" in report:
        hc = report["hatecheck"]
        below = [
            f"{k} {v['accuracy']:.2f}"
            for k, v in hc["per_functionality"].items()
            if v["accuracy"] < 0.5
        ]
        lines.append(
            f"HateCheck accuracy ({hc['attribute']} >= 0.5 = hateful): {hc['overall']:.4f}"
        )
        lines.append("  below 0.50: " + (", ".join(below) or "none"))
    if report.get("dynahate"):
        dh = report["dynahate"]
        types = ", ".join(f"{k} {v['accuracy']:.2f}" for k, v in dh["per_type"].items())
        levels = ", ".join(f"{k} {v['accuracy']:.2f}" for k, v in dh["per_level"].items())
        lines.append(
            f"DynaHate accuracy, dev+test, evaluation only ({dh['attribute']} >= 0.5 = hateful): "
            f"{dh['overall']:.4f}"
        )
        lines.append(f"  by type: {types}; by level: {levels}")
    if "bias" in report:
        b = report["bias"]
        lines.append(
            f"identity bias ({b['attribute']}, {len(b['per_term'])} terms): final metric {b['final_metric']:.4f}, "
            f"worst BPSN {b['worst_bpsn']['auc']:.4f} ({b['worst_bpsn']['term']})"
        )
    if "news_suite" in report:
        lines.extend(render_suite(report["news_suite"]))
    if "spans" in report:
        s = report["spans"]
        folds = ", ".join(f"{r['f1']:.4f}" for r in s["folds"])
        lines.append(
            f"toxic spans, SemEval-2021 char F1, {len(s['folds'])}-fold cross-validated span tagger: "
            f"{s['f1']:.4f} (folds {folds}); word baseline {s['baseline_f1']:.4f}"
        )
    if "typed_spans" in report:
        lines.append(
            "typed spans, char F1 on Toxic Spans posts holding that type's gold, cross-validated "
            "(typed head, else generic / generic head alone):"
        )
        for head, r in report["typed_spans"].items():
            lines.append(
                f"  {head:16s} {r['f1']:.4f} / {r['generic_f1']:.4f}  ({r['posts']} posts)"
            )
    return "\n".join(lines)
