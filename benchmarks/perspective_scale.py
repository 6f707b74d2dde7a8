"""How close civility's scores come to Perspective's own, on the texts Perspective scored.

Run from the checkout: ``python benchmarks/perspective_scale.py [--data ../shared/data]``.
Prints, per attribute and file (5-fold cross-validation over texts, a prompt and its
continuation in one fold), Spearman with Perspective's score and agreement (both on the same
side) at 0.5, 0.7 and 0.9 for three ways of putting civility on Perspective's scale:

- ``balanced``: the class-balanced heads as they are (no map);
- ``isotonic``: a monotone map (isotonic regression) from the balanced head's logit to
  Perspective's score, fitted on the other folds (Spearman is the balanced head's: a monotone
  map does not reorder texts);
- ``soft heads``: what the shipped model does, ridge heads fitted to the logit of
  Perspective's score on the model's features (:mod:`civility.train.perspective`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold

from civility.model import load_model
from civility.scorer import Scorer
from civility.train import perspective as P


def _row(p: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> str:
    rho = float(spearmanr(p, y)[0])
    agree = " ".join(f"{np.mean((p >= t) == (y >= t)):.3f}" for t in P.THRESHOLDS)
    return f"{rho:.3f}  {agree}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path.cwd().parent / "shared" / "data")
    args = parser.parse_args()
    started = time.perf_counter()
    model = load_model()
    scored = P.load_scored(args.data)
    scorer = Scorer.from_model(model)
    norm = [scorer.normalize_text(t) for t in scored["text"]]
    logits = np.asarray(model.features(norm) @ model.coef) + model.intercept
    groups = scored["group"].to_numpy()
    source = scored["source"].to_numpy()
    print(
        f"model {model.version}; {len(scored):,} texts ({time.perf_counter() - started:.0f} s to featurise)"
    )
    print(
        "attribute          file                        balanced: rho agree@.5 .7 .9 | isotonic: rho agree@.5 .7 .9"
    )
    for name in P.SCORED:
        if name not in model.attributes or name == "FLIRTATION":
            continue
        j = model.attributes.index(name)
        y_all = scored[name].to_numpy(dtype=np.float64)
        rows = np.flatnonzero(~np.isnan(y_all) & scored[f"{name}_real"].to_numpy(dtype=bool))
        z, y = logits[rows, j], y_all[rows]
        iso = np.zeros(len(rows))
        for tr, te in GroupKFold(P.FOLDS).split(rows, y, groups[rows]):
            iso[te] = IsotonicRegression(out_of_bounds="clip").fit(z[tr], y[tr]).predict(z[te])
        for src in P.FILES:
            inside = source[rows] == src
            if inside.any():
                raw = 1.0 / (1.0 + np.exp(-z[inside]))
                print(
                    f"{name:<18} {src:<27} {_row(raw, y[inside])} | {_row(iso[inside], y[inside])}"
                )
    print()
    print("\n".join(P.render(P.cross_validate(model, scored))))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
