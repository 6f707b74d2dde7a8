"""The 2026 corpora's loaders: each label mapped onto the attribute it means (hate and bias are
not read as toxicity), evaluation-only splits never loaded, and no training row equal to an
evaluation text of any file. Hand-made frames in the files' own columns, and a tiny data
directory for the evaluation rule."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civility.train import corpora
from civility.train.pipeline import load_corpora


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _row(frame: pd.DataFrame, ident: str) -> pd.Series:
    return frame.set_index("id").loc[ident]


def test_every_trainable_2026_file_has_a_loader_and_the_evaluation_ones_have_none() -> None:
    data = corpora.default_data_dir()
    expected = {
        "ruddit_reddit",
        "gab_hate_corpus",
        "edos2023_sexism",
        "implicit_hate_tweets",
        "hatexplain",
        "redditbias",
        "sbic2020",
        "hatemoji",
        "identity_nontoxic_wikipedia",
        "convabuse2021",
        "wikipedia_context_toxicity",
    }
    assert set(corpora.EXTENDED_CORPORA) == expected
    assert not set(corpora.ALL_CORPORA) & set(corpora.EVALUATION_FILES)
    if data.is_dir():  # the real files carry the columns the loaders read
        for name, load in corpora.EXTENDED_CORPORA.items():
            frame = load(pd.read_parquet(data / f"{name}.parquet").head(50))
            assert list(frame.columns[:3]) == ["id", "text", "corpus"], name


def test_gab_hate_is_identity_attack_and_crude_non_hate_is_not_called_civil() -> None:
    df = pd.DataFrame(
        {
            "id": ["h", "c", "p", "t"],
            "text": ["they are vermin", "nice weather today", "this shit again", "a test post"],
            "hate": [True, False, False, False],
            "split": ["train", "train", "dev", "test"],
        }
    )
    out = corpora.gab_hate_corpus(df)
    assert list(out["id"]) == ["h", "c", "p"]  # the test split is evaluation only
    assert (_row(out, "h")["IDENTITY_ATTACK"], _row(out, "h")["TOXICITY"]) == (1.0, 1.0)
    assert (_row(out, "c")["IDENTITY_ATTACK"], _row(out, "c")["TOXICITY"]) == (0.0, 0.0)
    assert _row(out, "p")["IDENTITY_ATTACK"] == 0.0 and _nan(_row(out, "p")["TOXICITY"])
    assert _nan(_row(out, "h")["INSULT"])


def test_edos_prejudiced_discussion_is_not_toxicity_and_threats_are_threat() -> None:
    df = pd.DataFrame(
        {
            "id": ["t", "d", "p", "n"],
            "text": ["I will hurt her", "women are trash", "women can't drive", "lovely day"],
            "sexist": [True, True, True, False],
            "category": [
                "1. threats, plans to harm and incitement",
                "2. derogation",
                "4. prejudiced discussions",
                "none",
            ],
            "vector": ["1.1", "2.1", "4.1", "none"],
            "split": ["train", "train", "dev", "train"],
        }
    )
    out = corpora.edos2023_sexism(df)
    assert _row(out, "t")[["TOXICITY", "IDENTITY_ATTACK", "THREAT"]].tolist() == [1.0, 1.0, 1.0]
    assert _row(out, "d")[["TOXICITY", "IDENTITY_ATTACK", "THREAT"]].tolist() == [1.0, 1.0, 0.0]
    assert _nan(_row(out, "p")["TOXICITY"]) and _row(out, "p")["IDENTITY_ATTACK"] == 1.0
    assert _row(out, "n")[["TOXICITY", "IDENTITY_ATTACK", "THREAT"]].tolist() == [0.0, 0.0, 0.0]


def test_implicit_hate_is_identity_attack_without_a_toxicity_label() -> None:
    df = pd.DataFrame(
        {
            "id": ["e", "i", "th", "n"],
            "text": ["kill all of them", "they replace us", "we are coming for you", "vote today"],
            "label": ["explicit_hate", "implicit_hate", "implicit_hate", "not_hate"],
            "implicit_category": ["", "white_grievance", "threatening", ""],
        }
    )
    out = corpora.implicit_hate_tweets(df)
    assert _row(out, "e")[["TOXICITY", "IDENTITY_ATTACK"]].tolist() == [1.0, 1.0]
    assert _nan(_row(out, "i")["TOXICITY"]) and _row(out, "i")["IDENTITY_ATTACK"] == 1.0
    assert out.set_index("id")["THREAT"].to_dict() == {"e": 0.0, "i": 0.0, "th": 1.0, "n": 0.0}
    assert _row(out, "n")[["TOXICITY", "IDENTITY_ATTACK"]].tolist() == [0.0, 0.0]


def test_redditbias_is_never_a_positive_and_sbic_targets_decide_identity_attack() -> None:
    bias = corpora.redditbias(
        pd.DataFrame(
            {
                "id": ["b", "u"],
                "text": ["women are too emotional to lead", "my sister is an engineer"],
                "biased": [True, False],
                "group": ["women", "women"],
            }
        )
    )
    assert _nan(_row(bias, "b")["TOXICITY"]) and _nan(_row(bias, "b")["IDENTITY_ATTACK"])
    assert _row(bias, "u")[["TOXICITY", "IDENTITY_ATTACK"]].tolist() == [0.0, 0.0]
    sbic = corpora.sbic2020(
        pd.DataFrame(
            {
                "id": ["g", "p", "u", "n", "x"],
                "text": ["group joke", "you idiot", "unclear", "hello", "held out"],
                "offensive": [0.9, 0.8, 0.7, 0.1, 0.9],
                "intent": [0.9, 0.8, 0.7, 0.0, 0.9],
                "lewd": [0.0, 0.6, 0.0, 0.0, 0.0],
                "group_targeted": [1.0, 0.0, np.nan, np.nan, 1.0],
                "split": ["dev", "dev", "dev", "dev", "test"],
            }
        )
    )
    assert "x" not in set(sbic["id"])
    assert sbic.set_index("id")["IDENTITY_ATTACK"].fillna(-1).to_dict() == {
        "g": 1.0,
        "p": 0.0,
        "u": -1,
        "n": 0.0,
    }
    assert _row(sbic, "p")["SEXUALLY_EXPLICIT"] == 1.0 and _row(sbic, "n")["TOXICITY"] == 0.0


def test_hatemoji_check_and_test_splits_and_convabuse_types() -> None:
    emoji = corpora.hatemoji(
        pd.DataFrame(
            {
                "id": ["h", "n", "c", "t"],
                "text": ["I will 🔪 them all", "I love 🌈 people", "check case", "test case"],
                "hate": [True, False, True, True],
                "type": ["threateninglanguage", "none", "", "derogation"],
                "target": ["gay", "none", "gay", "wom"],
                "functionality": ["", "", "emoji_swap", ""],
                "split": ["train", "dev", "check", "test"],
            }
        )
    )
    assert list(emoji["id"]) == ["h", "n"]
    assert _row(emoji, "h")[["TOXICITY", "IDENTITY_ATTACK", "THREAT"]].tolist() == [1.0, 1.0, 1.0]
    assert _row(emoji, "n")[["TOXICITY", "IDENTITY_ATTACK", "THREAT"]].tolist() == [0.0, 0.0, 0.0]
    chat = corpora.convabuse2021(
        pd.DataFrame(
            {
                "id": ["r", "s", "f"],
                "text": ["you are a stupid bot", "go back to your country", "hello there"],
                "severity": [-2.0, -3.0, 1.0],
                "is_abuse": [True, True, False],
                "type": [np.array(["intellectual"]), np.array(["racist"]), np.array([])],
                "target": [np.array(["system"]), np.array(["generalised"]), np.array([])],
                "directness": [np.array(["explicit"]), np.array(["explicit"]), np.array([])],
                "bot": ["E.L.I.Z.A."] * 3,
                "split": ["train", "dev", "train"],
            }
        )
    )
    frame = chat.set_index("id")
    assert frame["TOXICITY"].to_dict() == {"r": 1.0, "s": 1.0, "f": 0.0}
    assert frame["IDENTITY_ATTACK"].to_dict() == {"r": 0.0, "s": 1.0, "f": 0.0}
    assert frame.loc["r", "INSULT"] == 1.0 and _nan(frame.loc["s", "INSULT"])


def test_a_training_row_equal_to_an_evaluation_text_is_left_out(tmp_path: Path) -> None:
    """SBIC's test posts recur in davidson2017_tweets (README): such rows never train."""
    kept, leaked = "you are a wonderful neighbour", "those people are animals"
    pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "text": [kept, "  Those people   are animals ", "what a lovely morning"],
            "label": ["neither", "hate_speech", "neither"],
        }
    ).to_parquet(tmp_path / "davidson2017_tweets.parquet")
    pd.DataFrame(
        {
            "id": ["s1", "s2"],
            "text": [leaked, "an ordinary dev post"],
            "offensive": [1.0, 0.0],
            "intent": [1.0, 0.0],
            "lewd": [0.0, 0.0],
            "group_targeted": [1.0, np.nan],
            "split": ["test", "dev"],
        }
    ).to_parquet(tmp_path / "sbic2020.parquet")
    frame = load_corpora(tmp_path, ["davidson2017_tweets", "sbic2020"], templates=False)
    assert set(frame["id"]) == {"1", "3", "s2"}
    with pytest.raises(KeyError):
        corpora.ALL_CORPORA["dynahate2021"]


def test_dynahate_is_measured_per_type_and_level_and_missing_is_none(tmp_path: Path) -> None:
    from civility.attributes import NAMES
    from civility.train import evaluate as ev

    assert ev.dynahate(tmp_path, lambda texts: np.zeros((len(texts), len(NAMES)))) is None
    pd.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "text": ["they are vermin", "fuck you", "I love my neighbours", "they should die"],
            "label": ["hate", "nothate", "nothate", "hate"],
            "type": ["dehumanization", "none", "none", "threatening"],
            "target": ["mus", "none", "none", "jew"],
            "level": ["original", "original", "perturbation", "perturbation"],
            "round": ["1", "1", "2a", "2b"],
            "matched_id": ["", "", "", ""],
            "split": ["dev", "dev", "test", "test"],
        }
    ).to_parquet(tmp_path / "dynahate2021.parquet")
    column = NAMES.index("IDENTITY_ATTACK")

    def predict(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(NAMES)))
        out[:, column] = [0.9 if "vermin" in t or "fuck" in t else 0.1 for t in texts]
        return out

    report = ev.dynahate(tmp_path, predict)
    assert report is not None
    assert report["overall"] == 0.5  # right on 1 and 3, wrong on 2 (abuse, not hate) and 4
    assert report["per_type"]["threatening"] == {"accuracy": 0.0, "n": 1}
    assert report["per_level"]["original"]["accuracy"] == 0.5
    assert "DynaHate accuracy" in ev.render({"dynahate": report})
