"""Perspective's scale: heads learned from texts that Perspective itself scored.

civility's main heads are trained with classes balanced within each corpus, so their 0.5 means
"the evidence for and against weighs the same", and friendly text lands at 0.3 where Perspective
gives a few hundredths. A Perspective client acts on fixed thresholds (0.5 in research code,
0.7-0.9 in moderation tools), so the scores it reads must be on Perspective's scale.

Two files of ``../shared/data`` hold Perspective's own scores: ``wikipedia_context_toxicity``
(19,992 Wikipedia talk comments, TOXICITY) and ``rtp_perspective`` (4,765 web-text snippets,
all eight 2020 attributes, FLIRTATION included). Measured (``benchmarks/perspective_scale.py``,
5-fold cross-validation over texts, a prompt and its continuation always in the same fold):

- a monotone map (isotonic) from the balanced head's logit to Perspective's score fixes the
  scale but not the ranking: Spearman stays the balanced head's (TOXICITY 0.78 on rtp, THREAT
  0.05, IDENTITY_ATTACK 0.34);
- soft-target heads (a ridge regression of the logit of Perspective's score on the model's
  own features: word and character TF-IDF and the lexicon block, plus the balanced head's
  logit, which folds into the same weights) on the two files alone reach Spearman 0.89
  TOXICITY, 0.86 SEVERE_TOXICITY, 0.82 INSULT, 0.85 PROFANITY, 0.69 IDENTITY_ATTACK, 0.63
  THREAT, 0.75 SEXUALLY_EXPLICIT, 0.63 FLIRTATION on rtp, and 0.70 for TOXICITY on Wikipedia
  (against 0.31), but learn rtp's high floor: "you are a wonderful person" TOXICITY 0.14,
  INSULT 0.39; "As a gay Muslim woman I think the article is fair" IDENTITY_ATTACK 0.51;
- with the civil anchors below (shipped), friendly text falls to a few hundredths ("you are a
  wonderful person" 0.085, the identity sentence 0.04) at a cost in Spearman: 0.865 TOXICITY
  rtp / 0.651 Wikipedia, 0.835 SEVERE_TOXICITY, 0.810 INSULT, 0.848 PROFANITY, 0.579
  IDENTITY_ATTACK, 0.593 THREAT, 0.746 SEXUALLY_EXPLICIT, 0.590 FLIRTATION (model card).

So the perspective heads are soft-target ridge heads; their weights are one more weight matrix
over the same features (``LinearModel.scale_coef``), and the score is the sigmoid of the head.

Two refinements since (model 1.1.2; 5-fold cross-validation, the figures on rtp_perspective,
``IMPUTED_WEIGHT`` / cross-attribute inputs measured one at a time):

- every balanced head's logit is an input of every perspective head, not only the
  attribute's own (Perspective's INSULT leans on what civility's TOXICITY head sees, its
  FLIRTATION, which has no balanced head, on all of them): +0.001-0.007 Spearman;
- targets that are *imputed* (the other attributes of Wikipedia comments, and the civil
  anchors' scores, both guesses from TOXICITY) weigh ``IMPUTED_WEIGHT`` = 0.2 against
  Perspective's real scores, except the anchors' TOXICITY, which keeps weight 1 (at 0.2 "you
  are a wonderful person" rises to 0.105 TOXICITY). Spearman with 1 -> 0.2 -> 0.03:
  IDENTITY_ATTACK 0.585 -> 0.630 -> 0.679, THREAT 0.595 -> 0.629 -> 0.640, FLIRTATION 0.590
  -> 0.623 -> 0.637, INSULT 0.810 -> 0.825 -> 0.830; but at 0.03 the guesses stop holding
  civil text down: "As a gay Muslim woman I think the article is fair" IDENTITY_ATTACK 0.16
  (0.06 at 0.2), "you are a wonderful person" INSULT 0.21 (0.10 at 0.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold

from civility.model.linear import LinearModel

ALPHA = 1.0  # ridge penalty (0.3 and 3 measured: 0.3 loses 0.006 TOXICITY Spearman, 3 ~the same)
BASE_WEIGHT = 1.0  # the balanced heads' logits as more features, at this scale
# Imputed targets (Wikipedia's other attributes, the civil anchors' scores) weigh this much
# against Perspective's real scores; the anchors' TOXICITY keeps weight 1 (module docstring).
IMPUTED_WEIGHT = 0.2
TARGET_CLIP = 1e-3  # Perspective's scores are clipped to [1e-3, 1 - 1e-3] before the logit
FOLDS = 5
THRESHOLDS = (0.5, 0.7, 0.9)
# Perspective attribute -> column of rtp_perspective. TOXICITY also learns from Wikipedia.
SCORED: dict[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "profanity",
    "THREAT": "threat",
    "SEXUALLY_EXPLICIT": "sexually_explicit",
    "FLIRTATION": "flirtation",
}
FILES = ("wikipedia_context_toxicity", "rtp_perspective")
# Wikipedia's comments carry TOXICITY only. Below this TOXICITY, their other attributes are
# imputed from it: the conditional mean (in logit) of each attribute given TOXICITY among
# rtp_perspective's texts, where Perspective scored all eight. Ordinary civil text is what
# rtp's snippets (half of them chosen as "challenging") lack; without it the heads learn
# rtp's high floor ("you are a wonderful person" TOXICITY 0.14, INSULT 0.39). Imputed targets
# are trained on, never measured against.
IMPUTE_BELOW = 0.3
# Civil anchors: texts people labelled harmless, many naming an identity ("I am a black person",
# Wikipedia article sentences on religions and minorities) or addressing "you", given the scores Perspective gives
# ordinary civil text: TOXICITY CIVIL_TOXICITY (a quarter of Wikipedia's talk comments score
# below 0.049) and each other attribute imputed from it as above. They teach the heads where
# "nothing here" lies, and that an identity word alone is not an attack (Perspective itself
# scores some such sentences high; civility does not copy that bias). Never measured against.
CIVIL_TOXICITY = 0.03


def load_scored(data_dir: Path) -> pd.DataFrame:
    """Both files as one frame: ``text``, ``source``, ``group`` (a prompt and its continuation
    share one), one target column per attribute of :data:`SCORED` (NaN where none) and
    ``{name}_real`` (True where Perspective scored it, False where imputed)."""
    wiki = pd.read_parquet(data_dir / "wikipedia_context_toxicity.parquet")
    rtp = pd.read_parquet(data_dir / "rtp_perspective.parquet")
    a = pd.DataFrame(
        {
            "text": wiki["text"].astype(str),
            "source": "wikipedia_context_toxicity",
            "group": "w" + wiki["id"].astype(str),
            "TOXICITY": wiki["perspective_toxicity"].astype(float),
        }
    )
    b = pd.DataFrame(
        {
            "text": rtp["text"].astype(str),
            "source": "rtp_perspective",
            "group": rtp["id"].astype(str).str[:-1],
        }
    )
    for name, column in SCORED.items():
        b[name] = rtp[column].astype(float)
    from sklearn.isotonic import IsotonicRegression

    civil = _civil_anchors(data_dir)
    tox = a["TOXICITY"].to_numpy()
    low = tox < IMPUTE_BELOW
    civil["TOXICITY"] = CIVIL_TOXICITY
    for name in SCORED:
        if name == "TOXICITY":
            continue
        iso = IsotonicRegression(out_of_bounds="clip").fit(
            b["TOXICITY"], _logit(b[name].to_numpy())
        )
        a[name] = np.where(low, 1.0 / (1.0 + np.exp(-iso.predict(tox))), np.nan)
        civil[name] = float(1.0 / (1.0 + np.exp(-iso.predict([CIVIL_TOXICITY])[0])))
        if name == "FLIRTATION":  # a message to a chatbot may flirt without abuse
            civil.loc[civil["source"] == "civil_anchor_chat", name] = np.nan
        a[f"{name}_real"] = False
        b[f"{name}_real"] = True
        civil[f"{name}_real"] = False
    a["TOXICITY_real"] = True
    b["TOXICITY_real"] = True
    civil["TOXICITY_real"] = False
    frame = pd.concat([a, b, civil], ignore_index=True)
    return frame[frame["text"].str.strip().astype(bool)].reset_index(drop=True)


def _civil_anchors(data_dir: Path) -> pd.DataFrame:
    """The harmless templated sentences, the train split of ``identity_nontoxic_wikipedia`` and
    the messages to chatbots that every ConvAbuse annotator called not abusive (short
    second-person text: "are you happy?", which rtp's snippets lack)."""
    from civility.train import synthetic

    templates = synthetic.template_frame()
    harmless = templates[
        (templates["TOXICITY"] == 0) & (templates["IDENTITY_ATTACK"].fillna(0) == 0)
    ]
    texts = list(harmless["text"])
    path = data_dir / "identity_nontoxic_wikipedia.parquet"
    if path.is_file():  # its test split is evaluation only
        wiki = pd.read_parquet(path)
        texts += list(wiki.loc[wiki["split"] == "train", "text"].astype(str))
    chat_from = len(texts)
    path = data_dir / "convabuse2021.parquet"
    if path.is_file():  # messages no annotator called abusive; test split evaluation only
        chat = pd.read_parquet(path)
        texts += list(
            chat.loc[(chat["split"] != "test") & (chat["severity"] >= 1.0), "text"].astype(str)
        )
    frame = pd.DataFrame(
        {"text": texts, "source": "civil_anchor", "group": [f"c{i}" for i in range(len(texts))]}
    )
    frame.loc[chat_from:, "source"] = "civil_anchor_chat"
    return frame


def _logit(p: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    q = np.clip(p, TARGET_CLIP, 1.0 - TARGET_CLIP)
    return np.asarray(np.log(q) - np.log1p(-q))


def _fit_head(
    x: sp.csr_matrix,
    base: np.ndarray[Any, Any],
    y: np.ndarray[Any, Any],
    weight: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], float]:
    """Ridge of logit(y) on ``x`` and the balanced logits ``base`` (rows x heads), rows
    weighted by ``weight``: (feature weights, one weight per balanced logit, intercept)."""
    design = sp.hstack([x, sp.csr_matrix(BASE_WEIGHT * base)], format="csr")
    reg = Ridge(alpha=ALPHA).fit(design, _logit(y), sample_weight=weight)
    coef = np.asarray(reg.coef_, dtype=np.float64)
    n = base.shape[1]
    return coef[:-n], coef[-n:] * BASE_WEIGHT, float(reg.intercept_)


def _balanced_columns(model: LinearModel) -> np.ndarray[Any, np.dtype[np.intp]]:
    """The balanced heads every perspective head takes as inputs: all but FLIRTATION, which
    has no balanced head of its own (in a model that has its column, that column *is* the
    perspective head, so leaving it out keeps refitting idempotent)."""
    return np.array(
        [k for k, name in enumerate(model.attributes) if name != "FLIRTATION"], dtype=np.intp
    )


def _row_weights(
    scored: pd.DataFrame, name: str, rows: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """1 for Perspective's real scores, :data:`IMPUTED_WEIGHT` for imputed ones (TOXICITY's
    only imputed targets, the civil anchors', keep 1)."""
    if name == "TOXICITY":
        return np.ones(len(rows))
    return np.where(scored[f"{name}_real"].to_numpy(dtype=bool)[rows], 1.0, IMPUTED_WEIGHT)


def _features(
    model: LinearModel, texts: Sequence[str]
) -> tuple[sp.csr_matrix, np.ndarray[Any, Any]]:
    """The model's features of raw ``texts`` (normalised as the Scorer does) and its balanced logits."""
    from civility.scorer import Scorer

    scorer = Scorer.from_model(model)
    x = sp.csr_matrix(model.features([scorer.normalize_text(t) for t in texts]), dtype=np.float64)
    return x, np.asarray(x @ model.coef) + model.intercept


def add_perspective_heads(model: LinearModel, scored: pd.DataFrame) -> LinearModel:
    """``model`` with perspective-scale heads for every attribute of :data:`SCORED` and a
    FLIRTATION head (balanced and perspective alike: it has no balanced corpus). Attributes
    Perspective did not score (SPAM) keep their balanced head on both scales."""
    attributes = list(model.attributes)
    coef, intercept = model.coef.copy(), model.intercept.copy()  # never the caller's arrays
    if "FLIRTATION" not in attributes:
        at = attributes.index("SPAM") if "SPAM" in attributes else len(attributes)
        attributes.insert(at, "FLIRTATION")
        coef = np.insert(coef, at, 0.0, axis=1)
        intercept = np.insert(intercept, at, 0.0)
    x, base = _features(model, list(scored["text"]))
    ks = _balanced_columns(model)
    scale_coef, scale_intercept = coef.copy(), intercept.copy()
    for name in SCORED:
        j = attributes.index(name)
        y = scored[name].to_numpy(dtype=np.float64)
        rows = np.flatnonzero(~np.isnan(y))
        w, wb, b = _fit_head(
            x[rows], base[np.ix_(rows, ks)], y[rows], _row_weights(scored, name, rows)
        )
        # fold the balanced logits' weights into the features' weights
        w = w + model.coef[:, ks] @ wb
        b = b + float(model.intercept[ks] @ wb)
        scale_coef[:, j], scale_intercept[j] = w, b
        if name == "FLIRTATION":  # no balanced head: the perspective head serves both scales
            coef[:, j], intercept[j] = w, b
    metadata = {
        **model.metadata,
        "perspective": {"files": list(FILES), "alpha": ALPHA, "imputed_weight": IMPUTED_WEIGHT},
    }
    return replace(
        model,
        attributes=tuple(attributes),
        coef=coef,
        intercept=intercept,
        calibration=dict(model.calibration),
        metadata=metadata,
        scale_coef=scale_coef,
        scale_intercept=scale_intercept,
    )


def _agreement(p: np.ndarray[Any, Any], y: np.ndarray[Any, Any], t: float) -> float:
    return float(np.mean((p >= t) == (y >= t)))


def _figures(p: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> dict[str, float]:
    out: dict[str, float] = {"n": len(y), "spearman": round(float(spearmanr(p, y)[0]), 4)}
    out.update({f"agree@{t:g}": round(_agreement(p, y, t), 4) for t in THRESHOLDS})
    out["perspective>=0.5"] = round(float(np.mean(y >= 0.5)), 4)
    return out


def cross_validate(
    model: LinearModel, scored: pd.DataFrame, *, folds: int = FOLDS
) -> dict[str, Any]:
    """Cross-validated figures of the perspective heads (refit per fold on the other folds'
    texts, over ``model``'s features and balanced heads), and of the balanced heads as they
    are: per attribute and file, Spearman with Perspective's score and agreement (both on
    the same side) at :data:`THRESHOLDS`."""
    x, base = _features(model, list(scored["text"]))
    ks = _balanced_columns(model)
    groups = scored["group"].to_numpy()
    source = scored["source"].to_numpy()
    report: dict[str, Any] = {"folds": folds, "perspective": {}, "balanced": {}}
    for name in SCORED:
        y_all = scored[name].to_numpy(dtype=np.float64)
        rows = np.flatnonzero(~np.isnan(y_all))
        real = scored[f"{name}_real"].to_numpy(dtype=bool)[rows]
        weight = _row_weights(scored, name, rows)
        y = y_all[rows]
        k = (
            model.attributes.index(name)
            if name in model.attributes and name != "FLIRTATION"
            else None
        )
        b = base[np.ix_(rows, ks)]
        pred = np.zeros(len(rows))
        for tr, te in GroupKFold(folds).split(rows, y, groups[rows]):
            w, wb, c = _fit_head(x[rows[tr]], b[tr], y[tr], weight[tr])
            z = np.asarray(x[rows[te]] @ w) + c + b[te] @ wb
            pred[te] = 1.0 / (1.0 + np.exp(-z))
        for src in FILES:
            inside = (source[rows] == src) & real
            if not inside.any():
                continue
            report["perspective"].setdefault(name, {})[src] = _figures(pred[inside], y[inside])
            if k is not None:
                report["balanced"].setdefault(name, {})[src] = _figures(
                    1.0 / (1.0 + np.exp(-base[rows[inside], k])), y[inside]
                )
    return report


# Friendly texts a Perspective client expects to score a few hundredths of TOXICITY.
FRIENDLY = (
    "you are a wonderful person",
    "What a surprising coincidence :)))",
    "Thanks for the great article!",
    "I disagree, but thanks for sharing.",
)


def friendly(model: LinearModel) -> dict[str, float]:
    """TOXICITY of :data:`FRIENDLY` on Perspective's scale."""
    from civility.scorer import Scorer

    scorer = Scorer.from_model(model)
    return {
        t: round(s["TOXICITY"], 4)
        for t, s in zip(FRIENDLY, scorer.score(list(FRIENDLY)), strict=True)
    }


def render(report: dict[str, Any]) -> list[str]:
    """Lines for ``civility eval`` and the model card."""
    lines = [
        f"Perspective's scale ({report['folds']}-fold cross-validation over texts; perspective heads refit per fold):",
        "  attribute          file                        n      Spearman  agree@0.5 @0.7  @0.9   | balanced heads: Spearman agree@0.5",
    ]
    for name, per in report["perspective"].items():
        for src, f in per.items():
            bal = report["balanced"].get(name, {}).get(src)
            tail = (
                f"| {bal['spearman']:.3f}    {bal['agree@0.5']:.3f}"
                if bal
                else "| (no balanced head)"
            )
            lines.append(
                f"  {name:<18} {src:<27} {f['n']:>6}  {f['spearman']:.3f}     {f['agree@0.5']:.3f}  "
                f"{f['agree@0.7']:.3f} {f['agree@0.9']:.3f}  {tail}"
            )
    if "friendly" in report:
        lines.append(
            "  friendly texts, TOXICITY on Perspective's scale: "
            + "; ".join(f"{t!r} {v:.3f}" for t, v in report["friendly"].items())
        )
    return lines
