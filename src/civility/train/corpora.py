"""Loaders for the corpora in ``../shared/data``, each mapped onto civility's attributes.

Every loader returns a frame with ``id``, ``text``, ``corpus`` and one float column per
attribute it supervises (NaN where the corpus says nothing about that attribute).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from civility.attributes import NAMES
from civility.errors import NotFound


def _frame(df: pd.DataFrame, corpus: str, labels: dict[str, pd.Series | float]) -> pd.DataFrame:
    out = pd.DataFrame(
        {"id": df["id"].astype(str), "text": df["text"].astype(str), "corpus": corpus}
    )
    for name in NAMES:
        value = labels.get(name, np.nan)
        out[name] = np.asarray(value, dtype=np.float64) if isinstance(value, pd.Series) else value
    return out


def civil_comments_spans(df: pd.DataFrame) -> pd.DataFrame:
    return _frame(
        df,
        "civil_comments_spans",
        {
            "TOXICITY": (df["toxicity"] >= 0.5).astype(float),
            "INSULT": (df["insult"] >= 0.5).astype(float),
            "THREAT": (df["threat"] >= 0.5).astype(float),
            "IDENTITY_ATTACK": (df["identity_attack"] >= 0.5).astype(float),
            "PROFANITY": (df["profane"] >= 0.5).astype(float),
        },
    )


def davidson2017_tweets(df: pd.DataFrame) -> pd.DataFrame:
    return _frame(
        df,
        "davidson2017_tweets",
        {
            "TOXICITY": (df["label"] != "neither").astype(float),
            "IDENTITY_ATTACK": (df["label"] == "hate_speech").astype(float),
        },
    )


def olid2019_train(df: pd.DataFrame) -> pd.DataFrame:
    off = df["subtask_a"] == "OFF"
    return _frame(
        df,
        "olid2019_train",
        {
            "TOXICITY": off.astype(float),
            "INSULT": (off & (df["subtask_b"] == "TIN") & (df["subtask_c"] == "IND")).astype(float),
        },
    )


def stormfront2018_sentences(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df["label"].isin(["hate", "noHate"])]
    hate = (df["label"] == "hate").astype(float)
    return _frame(df, "stormfront2018_sentences", {"TOXICITY": hate, "IDENTITY_ATTACK": hate})


def toxigen_statements(df: pd.DataFrame) -> pd.DataFrame:
    hate = (df["label"] == "hate").astype(float)
    return _frame(df, "toxigen_statements", {"TOXICITY": hate, "IDENTITY_ATTACK": hate})


def wikipedia_toxicity_sample(df: pd.DataFrame) -> pd.DataFrame:
    return _frame(df, "wikipedia_toxicity_sample", {"TOXICITY": df["toxic"].astype(float)})


def youtube_spam(df: pd.DataFrame) -> pd.DataFrame:
    return _frame(df, "youtube_spam", {"SPAM": df["spam"].astype(float)})


def sms_spam(df: pd.DataFrame) -> pd.DataFrame:
    return _frame(df, "sms_spam", {"SPAM": df["spam"].astype(float)})


# Corpora the shipped model trains on. hatecheck, impermium and olid's test split are
# evaluation only (see ../shared/data/README.md).
TRAINING_CORPORA: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "civil_comments_spans": civil_comments_spans,
    "davidson2017_tweets": davidson2017_tweets,
    "olid2019_train": olid2019_train,
    "stormfront2018_sentences": stormfront2018_sentences,
    "toxigen_statements": toxigen_statements,
    "wikipedia_toxicity_sample": wikipedia_toxicity_sample,
    "youtube_spam": youtube_spam,
    "sms_spam": sms_spam,
}


def default_data_dir() -> Path:
    """``../shared/data`` beside the checkout (the working directory's parent)."""
    return Path.cwd().parent / "shared" / "data"


def read_corpus(data_dir: Path, name: str) -> pd.DataFrame:
    path = data_dir / f"{name}.parquet"
    if not path.is_file():
        raise NotFound(f"Corpus {name!r} not found: expected {path}.")
    return pd.read_parquet(path)


def load_training_data(data_dir: Path, corpora: list[str] | None = None) -> pd.DataFrame:
    names = corpora or list(TRAINING_CORPORA)
    frames = [TRAINING_CORPORA[n](read_corpus(data_dir, n)) for n in names]
    return pd.concat(frames, ignore_index=True)
