"""The model card: what the shipped model learned from, how, and how well it measures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from civility.attributes import NAMES
from civility.train.perspective import IMPUTED_WEIGHT

# How each attribute is supervised; written out because the mapping is a modelling choice.
SUPERVISION: dict[str, str] = {
    "TOXICITY": "civil_comments_spans (toxicity share >= 0.5), davidson2017_tweets (hate or offensive), olid2019_train (OFF), stormfront2018_sentences (hate), toxigen_statements (hate), wikipedia_toxicity_sample (toxic), templates.",
    "SEVERE_TOXICITY": "No corpus labels it. Derived: toxic and (identity attack, threat, a slur, or two or more profane words); templates label group attacks and threats severe.",
    "IDENTITY_ATTACK": "civil_comments_spans (identity_attack >= 0.5), davidson2017_tweets (hate_speech), stormfront2018_sentences (hate), toxigen_statements (hate), templates (attacks on 28 groups; harmless mentions of 25 identities as negatives).",
    "INSULT": "civil_comments_spans (insult >= 0.5), olid2019_train (targeted at an individual), templates.",
    "PROFANITY": "Too little data (civil_comments_spans marks 2.9%): weak labels from civility's profanity list over every corpus (seen through obfuscation by the normaliser), or the corpus label where one exists.",
    "THREAT": "About 100 threats in civil_comments_spans, plus about 1,150 from three corpora read for THREAT alone (edos2023_sexism category 1, implicit_hate_tweets 'threatening', hatemoji 'threateninglanguage'; their other posts as negatives; they shape no other head and not the vocabulary), templated threats against people and templated news reports of killing as negatives, every text its corpus labels not toxic as a negative (weak label), and the threat-pattern lexicon features.",
    "SEXUALLY_EXPLICIT": "No corpus labels it: weak labels from civility's list of strongly sexual words; covered mostly by the lexicon.",
    "FLIRTATION": "No labelled corpus: learned only on Perspective's scale, from rtp_perspective's FLIRTATION scores (soft targets), with civil anchors; its balanced score is the same head.",
    "SPAM": "youtube_spam, sms_spam, plus link, number and selling-word counts (used by this head only).",
}
# The second scale, shared by every attribute Perspective scored.
PERSPECTIVE_SUPERVISION = (
    "Perspective's scale (the main scores): per attribute, a ridge regression of the logit of Perspective's own score on the "
    "same features plus every balanced head's logit (folded into one weight vector), on wikipedia_context_toxicity (TOXICITY, "
    "19,992 comments) and rtp_perspective (all eight attributes, 4,765 snippets); the other attributes of Wikipedia comments "
    "with TOXICITY < 0.3 are imputed from it (rtp's conditional mean), and civil anchors (harmless templates, "
    "identity_nontoxic_wikipedia train split, ConvAbuse messages no annotator found abusive, train and dev splits) get the "
    "scores Perspective gives civil text. Imputed targets weigh "
    f"{IMPUTED_WEIGHT:g} against Perspective's real scores (the anchors' TOXICITY weighs 1). SPAM has no Perspective "
    "scores: both scales are its balanced head."
)


def corpus_table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for corpus, part in frame.groupby("corpus", sort=True):
        row: dict[str, Any] = {
            "corpus": str(corpus),
            "train": int((part["split"] == "train").sum()),
            "valid": int((part["split"] == "valid").sum()),
        }
        for name in NAMES:
            labelled = part[name].dropna()
            if len(labelled):
                row[name] = round(float((labelled > 0.5).mean()), 4)
        rows.append(row)
    return rows


def write_card(out_dir: Path, card: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``model_card.json`` and ``MODEL_CARD.md`` into ``out_dir``."""
    json_path = out_dir / "model_card.json"
    json_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    md_path = out_dir / "MODEL_CARD.md"
    md_path.write_text(render_markdown(card), encoding="utf-8")
    return json_path, md_path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render_markdown(card: dict[str, Any]) -> str:
    lines = [
        f"# civility model {card['version']}",
        "",
        card.get("summary", ""),
        "",
        "## Artifact",
        "",
        f"- files: `model.npz` (sha256 `{card['sha256']}`), `model.json`; size {card['size_bytes'] / 1e6:.1f} MB",
        f"- trained by `civility train --seed {card['seed']}` in {card.get('train_seconds', 0):.0f} s; same data and seed give the same bytes",
        f"- features: {card['recipe']['features']}",
        f"- learner: {card['recipe']['learner']}",
        f"- weighting: {card['recipe']['weighting']}",
        *(
            [f"- perspective scale: {card['recipe']['perspective']}"]
            if "perspective" in card["recipe"]
            else []
        ),
        *([f"- notions: {card['recipe']['notions']}"] if "notions" in card["recipe"] else []),
        *(
            ["- notion heads: " + ", ".join(f"`{n}`" for n in card["notions"])]
            if card.get("notions")
            else []
        ),
        "",
        "## Data",
        "",
        "Held-out `valid` rows (a fixed 20% of each corpus, by a hash of its id) were never trained on.",
        "Evaluation only, never trained on: hatecheck, impermium2012_insults, olid2019_test, dynahate2021, the `test` splits of gab_hate_corpus, edos2023_sexism, hatexplain, sbic2020, hatemoji, identity_nontoxic_wikipedia and convabuse2021 (and hatemoji's `check` suite), the SemEval-2021 test split (not in the data at all), and civility's own news-comment suite (`train/news_suite.jsonl`, hand-written). No training row has the normalised text of one of those evaluation texts (SBIC test posts recur in davidson2017_tweets and stormfront2018_sentences: they are left out). No templated sentence is a HateCheck or suite case (a test checks it; 1.0.0's \"I despise {g}\" template was seven of them).",
        "",
        "| corpus | train | valid | " + " | ".join(NAMES) + " |",
        "|---|---:|---:|" + "---:|" * len(NAMES),
    ]
    for row in card["data"]:
        cells = [row["corpus"], str(row["train"]), str(row["valid"])]
        cells += [_fmt(row[n]) if n in row else "" for n in NAMES]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Cells give the positive share of each attribute where the corpus labels it.",
        "",
        "## How each attribute is supervised",
        "",
    ]
    lines += [f"- **{name}**: {text}" for name, text in card["supervision"].items()]
    if "perspective_supervision" in card:
        lines += [f"- **Perspective's scale**: {card['perspective_supervision']}"]
    metrics = card.get("metrics")
    if metrics:
        lines += [
            "",
            "## Measured",
            "",
            "```",
            metrics.get("text", json.dumps(metrics, indent=2)),
            "```",
        ]
    limits = card.get("limitations", [])
    if limits:
        lines += ["", "## Limitations", ""] + [f"- {x}" for x in limits]
    return "\n".join(lines) + "\n"
