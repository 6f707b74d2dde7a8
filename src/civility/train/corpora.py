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
from civility.model.lexicon import PROFANE
from civility.text import normalize_text


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


# ---- The thirteen corpora added in 2026 (../shared/data/README.md). Each mapping says where a
# corpus's label means *hate* or *bias* rather than toxicity: such labels supervise the
# attribute they mean, and the other attributes are left unknown (NaN) rather than guessed.
# Evaluation-only rows (``split == "test"``, hatemoji's ``check``) never reach training.


def _trainable(df: pd.DataFrame, *held_out: str) -> pd.DataFrame:
    """``df`` without its evaluation-only splits."""
    if "split" not in df:
        return df
    return df[~df["split"].isin(held_out or ("test",))]


def _civil_unless_profane(df: pd.DataFrame, negative: pd.Series) -> pd.Series:
    """0 for ``negative`` rows without a word of civility's profanity list (read through
    obfuscation by the normaliser), NaN for the profane ones (a corpus whose
    negative class is "not hate" says nothing about a non-hateful text's rudeness), NaN for
    the rest (to be filled by the caller)."""
    profane = df["text"].map(lambda t: bool(PROFANE.intersection(normalize_text(str(t)).split())))
    return pd.Series(np.where(negative & ~profane, 0.0, np.nan), index=df.index)


def ruddit_reddit(df: pd.DataFrame) -> pd.DataFrame:
    """Offensiveness by best-worst scaling, -1 (supportive) to 1: above 0 is TOXICITY 1 (the
    adaptation benchmark's reading of the same corpus)."""
    return _frame(df, "ruddit_reddit", {"TOXICITY": (df["offensiveness"] > 0).astype(float)})


def gab_hate_corpus(df: pd.DataFrame) -> pd.DataFrame:
    """``hate`` is hate-based rhetoric (an assault on dignity, or a call for violence): it is
    IDENTITY_ATTACK; for TOXICITY a hateful post is 1, a non-hateful one 0 only when it holds
    no profanity (Gab's non-hateful posts are often crude)."""
    df = _trainable(df)
    hate = df["hate"].astype(bool)
    tox = _civil_unless_profane(df, ~hate).where(~hate, 1.0)
    return _frame(df, "gab_hate_corpus", {"IDENTITY_ATTACK": hate.astype(float), "TOXICITY": tox})


def edos2023_sexism(df: pd.DataFrame) -> pd.DataFrame:
    """Sexism: threats, derogation and animosity (categories 1-3) are TOXICITY and
    IDENTITY_ATTACK 1; "prejudiced discussions" (4) are often civil in tone: unknown for
    TOXICITY, IDENTITY_ATTACK 1; non-sexist posts 0 for IDENTITY_ATTACK and, without
    profanity, for TOXICITY. Category 1 is THREAT 1, every other post THREAT 0."""
    df = _trainable(df)
    category = df["category"].astype(str)
    sexist = df["sexist"].astype(bool)
    hostile = sexist & category.str[:1].isin(["1", "2", "3"])
    tox = _civil_unless_profane(df, ~sexist).where(~hostile, 1.0)
    return _frame(
        df,
        "edos2023_sexism",
        {
            "TOXICITY": tox,
            "IDENTITY_ATTACK": sexist.astype(float),
            "THREAT": category.str.startswith("1").astype(float),
        },
    )


def implicit_hate_tweets(df: pd.DataFrame) -> pd.DataFrame:
    """Explicit hate is TOXICITY and IDENTITY_ATTACK 1; implicit hate is IDENTITY_ATTACK 1 and
    unknown for TOXICITY (stereotypes and white grievance in a civil tone); not-hate tweets
    share the hateful ones' topics: 0 for both (TOXICITY only without profanity). The implicit
    category "threatening" is THREAT 1, every other tweet THREAT 0."""
    label = df["label"].astype(str)
    explicit, implicit, none = (
        label == "explicit_hate",
        label == "implicit_hate",
        label == "not_hate",
    )
    tox = _civil_unless_profane(df, none).where(~explicit, 1.0)
    ident = pd.Series(
        np.where(explicit | implicit, 1.0, np.where(none, 0.0, np.nan)), index=df.index
    )
    threat = (df["implicit_category"].astype(str) == "threatening").astype(float)
    return _frame(
        df,
        "implicit_hate_tweets",
        {"TOXICITY": tox, "IDENTITY_ATTACK": ident, "THREAT": threat},
    )


def hatexplain(df: pd.DataFrame) -> pd.DataFrame:
    """Hate speech and offensive posts are TOXICITY 1, normal ones 0; hate speech is
    IDENTITY_ATTACK 1, normal posts 0, offensive ones unknown (they may or may not target a
    group)."""
    df = _trainable(df)
    label = df["label"].astype(str)
    ident = np.where(label == "hatespeech", 1.0, np.where(label == "normal", 0.0, np.nan))
    return _frame(
        df,
        "hatexplain",
        {
            "TOXICITY": (label != "normal").astype(float),
            "IDENTITY_ATTACK": pd.Series(ident, index=df.index),
        },
    )


def redditbias(df: pd.DataFrame) -> pd.DataFrame:
    """Comments about five groups; ``biased`` (stereotyping) is often civil in tone, so it is
    not read as toxicity or attack: biased comments are unknown, and the unbiased ones are
    benign mentions of identities, 0 for IDENTITY_ATTACK and (without profanity) TOXICITY."""
    biased = df["biased"].astype(bool)
    tox = _civil_unless_profane(df, ~biased)
    ident = pd.Series(np.where(biased, np.nan, 0.0), index=df.index)
    return _frame(df, "redditbias", {"TOXICITY": tox, "IDENTITY_ATTACK": ident})


def sbic2020(df: pd.DataFrame) -> pd.DataFrame:
    """Annotators' means: ``offensive`` >= 0.5 is TOXICITY; an offensive post targeting a group
    (``group_targeted`` >= 0.5) is IDENTITY_ATTACK 1, one targeting a person 0, a post nobody
    found offensive 0; ``lewd`` >= 0.5 is SEXUALLY_EXPLICIT."""
    df = _trainable(df)
    offensive = df["offensive"] >= 0.5
    group = df["group_targeted"]
    ident = np.where(~offensive, 0.0, np.where(group.isna(), np.nan, (group >= 0.5).astype(float)))
    return _frame(
        df,
        "sbic2020",
        {
            "TOXICITY": offensive.astype(float),
            "IDENTITY_ATTACK": pd.Series(ident, index=df.index),
            "SEXUALLY_EXPLICIT": (df["lewd"] >= 0.5).astype(float),
        },
    )


def hatemoji(df: pd.DataFrame) -> pd.DataFrame:
    """HatemojiBuild's train and dev statements (test and the check suite are evaluation only):
    hate is IDENTITY_ATTACK and TOXICITY 1; non-hateful ones are IDENTITY_ATTACK 0 and, without
    profanity, TOXICITY 0 (Dynabench's "not hate" includes plain abuse); threatening language
    is THREAT 1, every other statement THREAT 0."""
    df = _trainable(df, "test", "check")
    hate = df["hate"].astype(bool)
    tox = _civil_unless_profane(df, ~hate).where(~hate, 1.0)
    return _frame(
        df,
        "hatemoji",
        {
            "TOXICITY": tox,
            "IDENTITY_ATTACK": hate.astype(float),
            "THREAT": (df["type"].astype(str) == "threateninglanguage").astype(float),
        },
    )


def identity_nontoxic_wikipedia(df: pd.DataFrame) -> pd.DataFrame:
    """Wikipedia sentences naming identities, all non-toxic (Dixon et al.'s debiasing set)."""
    df = _trainable(df)
    zero = pd.Series(0.0, index=df.index)
    return _frame(
        df,
        "identity_nontoxic_wikipedia",
        {"TOXICITY": zero, "IDENTITY_ATTACK": zero, "INSULT": zero, "THREAT": zero},
    )


def convabuse2021(df: pd.DataFrame) -> pd.DataFrame:
    """Messages to chatbots: ``is_abuse`` (most annotators rated it abusive) is TOXICITY;
    abuse of type sexist, homophobic, racist, ableist or transphobic is IDENTITY_ATTACK 1,
    other messages 0; "intellectual" abuse (calling the bot stupid) is INSULT 1, messages
    nobody found abusive INSULT 0."""
    df = _trainable(df)
    abuse = df["is_abuse"].astype(bool)
    types = df["type"].map(lambda t: set(t) if t is not None else set())
    identity = types.map(
        lambda t: bool(t & {"sexist", "homophobic", "racist", "ableist", "transphobic"})
    )
    insult = np.where(types.map(lambda t: "intellectual" in t), 1.0, np.where(abuse, np.nan, 0.0))
    return _frame(
        df,
        "convabuse2021",
        {
            "TOXICITY": abuse.astype(float),
            "IDENTITY_ATTACK": (abuse & identity).astype(float),
            "INSULT": pd.Series(insult, index=df.index),
        },
    )


def wikipedia_context_toxicity(df: pd.DataFrame) -> pd.DataFrame:
    """Wikipedia talk comments with a human ``toxic`` label (Perspective's score, beside it,
    trains the perspective-scale heads instead)."""
    return _frame(df, "wikipedia_context_toxicity", {"TOXICITY": df["toxic"].astype(float)})


# The 2026 corpora that may be trained on, by name. rtp_perspective has Perspective's scores
# and no human label (the perspective-scale heads use it); dynahate2021 is evaluation only.
EXTENDED_CORPORA: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "ruddit_reddit": ruddit_reddit,
    "gab_hate_corpus": gab_hate_corpus,
    "edos2023_sexism": edos2023_sexism,
    "implicit_hate_tweets": implicit_hate_tweets,
    "hatexplain": hatexplain,
    "redditbias": redditbias,
    "sbic2020": sbic2020,
    "hatemoji": hatemoji,
    "identity_nontoxic_wikipedia": identity_nontoxic_wikipedia,
    "convabuse2021": convabuse2021,
    "wikipedia_context_toxicity": wikipedia_context_toxicity,
}

# Evaluation only (README): whole files, and the splits of others that are.
EVALUATION_FILES = ("hatecheck", "impermium2012_insults", "olid2019_test", "dynahate2021")
EVALUATION_SPLITS: dict[str, tuple[str, ...]] = {
    "gab_hate_corpus": ("test",),
    "edos2023_sexism": ("test",),
    "hatexplain": ("test",),
    "sbic2020": ("test",),
    "hatemoji": ("test", "check"),
    "identity_nontoxic_wikipedia": ("test",),
    "convabuse2021": ("test",),
}


def evaluation_texts(data_dir: Path) -> list[str]:
    """Every evaluation-only text of ``data_dir`` (files that are missing are skipped): a
    training row whose normalised text is one of these is left out (README: SBIC test posts
    recur in davidson2017_tweets, stormfront2018_sentences and implicit_hate_tweets)."""
    texts: list[str] = []
    for name in EVALUATION_FILES:
        path = data_dir / f"{name}.parquet"
        if path.is_file():
            texts.extend(pd.read_parquet(path, columns=["text"])["text"].astype(str))
    for name, splits in EVALUATION_SPLITS.items():
        path = data_dir / f"{name}.parquet"
        if path.is_file():
            df = pd.read_parquet(path, columns=["text", "split"])
            texts.extend(df.loc[df["split"].isin(splits), "text"].astype(str))
    return texts


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


SPAM_CORPORA = ("youtube_spam", "sms_spam")

# Corpora the shipped model reads for THREAT alone (model 1.1.2 on): threats are 0.7% of
# civil_comments_spans, about 100 texts; these three add about 1,150, each label mapped by its
# loader (edos category 1 "threats, plans to harm and incitement", implicit hate's
# "threatening", HatemojiBuild's "threateninglanguage"), with every other post of the same
# corpus a negative. Their other labels mean hate or sexism (see the loaders), not what the
# shipped heads learn, so for every other attribute they are unknown, and they do not shape the
# n-gram vocabulary (:func:`civility.train.pipeline.fit_model`): every other head is what it was.
THREAT_CORPORA = ("edos2023_sexism", "implicit_hate_tweets", "hatemoji")

# Every corpus a loader maps: the shipped model's and the 2026 ones.
ALL_CORPORA: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    **TRAINING_CORPORA,
    **EXTENDED_CORPORA,
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
    frames = [ALL_CORPORA[n](read_corpus(data_dir, n)) for n in names]
    return pd.concat(frames, ignore_index=True)
