"""`civility train` on a tiny hand-written copy of ../shared/data: deterministic, loadable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civility.attributes import NAMES
from civility.scorer import Scorer
from civility.train import notions, pipeline
from civility.train.corpora import THREAT_CORPORA, TRAINING_CORPORA

TOXIC = [
    "you are a stupid idiot",
    "shut up you moron",
    "what a pathetic loser you are",
    "go to hell you worthless clown",
    "you idiots are all the same",
    "this author is a total moron",
    "you are a liar and a coward",
    "only an idiot would say that",
    "you pathetic fool",
    "nobody cares about you, loser",
    "get lost you dumb troll",
    "you are disgusting scum",
]
CLEAN = [
    "thanks for the thoughtful article",
    "I disagree with the policy but respect the view",
    "the council meets on tuesday",
    "great reporting, well researched",
    "the vote was close this year",
    "I enjoyed reading this piece",
    "the bridge will reopen next month",
    "good point about the budget",
    "the weather was lovely at the fair",
    "my family visited the museum",
    "the team played well tonight",
    "prices went up again this winter",
]
SPAM = [
    "check out my channel and subscribe www.example.com",
    "win a free prize call 08001234567 now",
    "click here for cheap followers http://x.co/a",
    "visit my website for free money",
] * 3
THREATS = [
    "I will find you and hurt you",
    "someone should shoot them all",
    "we will burn their houses down",
    "I am going to break your neck",
] * 2
HAM = [
    "nice song, I love the chorus",
    "this video brings back memories",
    "see you at the game",
    "the bus is late again",
] * 3


BAD_WORDS = (
    "stupid",
    "idiot",
    "moron",
    "pathetic",
    "loser",
    "worthless",
    "clown",
    "idiots",
    "liar",
    "coward",
    "fool",
    "dumb",
    "troll",
    "scum",
)


def _gold(text: str) -> list[int]:
    """Character offsets of the insulting words in ``text`` (the span annotation)."""
    offsets: list[int] = []
    for word in BAD_WORDS:
        at = f" {text} ".find(f" {word} ")
        if at >= 0:
            offsets.extend(range(at, at + len(word)))
    return sorted(set(offsets))


def _write_tiny_data(directory: Path) -> None:
    texts = TOXIC + CLEAN
    toxic = np.array([1] * len(TOXIC) + [0] * len(CLEAN))
    ids = [str(i) for i in range(len(texts))]
    share = toxic.astype(float)
    frames = {
        "civil_comments_spans": pd.DataFrame(
            {
                "id": ids,
                "text": texts,
                "annotators": 3,
                "toxicity": share,
                "all_toxic": share,
                "identity_attack": 0.0,
                "insult": share,
                "other": 0.0,
                "profane": 0.0,
                "threat": 0.0,
                "spans": [
                    [
                        {"begin": o[0], "end": o[-1] + 1, "type": "insult", "annotator": a}
                        for a in range(3)
                    ]
                    if (o := _gold(t))
                    else []
                    for t in texts
                ],
            }
        ),
        "davidson2017_tweets": pd.DataFrame(
            {
                "id": ids,
                "text": texts,
                "count": 3,
                "hate_speech": 0,
                "offensive_language": toxic * 3,
                "neither": (1 - toxic) * 3,
                "label": np.where(toxic == 1, "offensive_language", "neither"),
            }
        ),
        "olid2019_train": pd.DataFrame(
            {
                "id": ids,
                "text": texts,
                "subtask_a": np.where(toxic == 1, "OFF", "NOT"),
                "subtask_b": np.where(toxic == 1, "TIN", None),
                "subtask_c": np.where(toxic == 1, "IND", None),
            }
        ),
        "stormfront2018_sentences": pd.DataFrame(
            {
                "id": ids,
                "text": texts,
                "label": np.where(toxic == 1, "hate", "noHate"),
                "num_contexts": 0,
            }
        ),
        "toxigen_statements": pd.DataFrame(
            {
                "id": ids,
                "text": texts,
                "label": np.where(toxic == 1, "hate", "neutral"),
                "target_group": "x",
            }
        ),
        "wikipedia_toxicity_sample": pd.DataFrame(
            {"id": ids, "text": texts, "toxic": toxic.astype(bool)}
        ),
        "youtube_spam": pd.DataFrame(
            {
                "id": [str(i) for i in range(24)],
                "text": SPAM + HAM,
                "video": "Psy",
                "spam": [1] * 12 + [0] * 12,
            }
        ),
        "sms_spam": pd.DataFrame(
            {"id": [str(i) for i in range(24)], "text": SPAM + HAM, "spam": [1] * 12 + [0] * 12}
        ),
    }
    # The corpora read for THREAT alone, in their files' own columns: threats, then civil posts.
    threat_texts = THREATS + CLEAN[:8]
    threat = [True] * len(THREATS) + [False] * 8
    threat_ids = [str(i) for i in range(len(threat_texts))]
    frames["edos2023_sexism"] = pd.DataFrame(
        {
            "id": threat_ids,
            "text": threat_texts,
            "sexist": threat,
            "category": [
                "1. threats, plans to harm and incitement" if t else "none" for t in threat
            ],
            "vector": ["1.1" if t else "none" for t in threat],
            "split": "train",
        }
    )
    frames["implicit_hate_tweets"] = pd.DataFrame(
        {
            "id": threat_ids,
            "text": threat_texts,
            "label": ["implicit_hate" if t else "not_hate" for t in threat],
            "implicit_category": ["threatening" if t else "" for t in threat],
        }
    )
    frames["hatemoji"] = pd.DataFrame(
        {
            "id": threat_ids,
            "text": threat_texts,
            "hate": threat,
            "type": ["threateninglanguage" if t else "none" for t in threat],
            "split": "train",
        }
    )
    assert set(frames) == set(TRAINING_CORPORA) | set(THREAT_CORPORA)
    frames["semeval2021_toxic_spans"] = pd.DataFrame(
        {
            "id": ids,
            "text": texts,
            "spans": [_gold(t) for t in texts],
            "split": "train",
        }
    )
    # Texts Perspective scored (toxic ones high on every attribute but FLIRTATION, which the
    # flirting lines carry): the perspective-scale heads learn from these.
    flirts = [
        "hey gorgeous, you look lovely tonight",
        "you have beautiful eyes, call me sometime",
    ] * 3
    rtp_texts = texts + flirts
    tox = np.array([0.9] * len(TOXIC) + [0.03] * len(CLEAN) + [0.1] * len(flirts))
    scored = {
        c: tox
        for c in (
            "toxicity",
            "severe_toxicity",
            "identity_attack",
            "insult",
            "profanity",
            "threat",
            "sexually_explicit",
        )
    }
    frames["rtp_perspective"] = pd.DataFrame(
        {
            "id": [f"rtp{i // 2}{'pc'[i % 2]}" for i in range(len(rtp_texts))],
            "text": rtp_texts,
            "part": "prompt",
            "challenging": False,
            **scored,
            "flirtation": [0.2] * len(texts) + [0.9] * len(flirts),
        }
    )
    frames["wikipedia_context_toxicity"] = pd.DataFrame(
        {
            "id": ids,
            "text": texts,
            "parent": "",
            "toxic": toxic.astype(bool),
            "perspective_toxicity": np.where(toxic == 1, 0.9, 0.03),
            "annotators_saw_parent": False,
        }
    )
    for name, frame in frames.items():
        frame.to_parquet(directory / f"{name}.parquet")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("data")
    _write_tiny_data(directory)
    return directory


def _train(data: Path, out: Path, seed: int = 0) -> dict[str, object]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "civility.cli",
            "train",
            "--data",
            str(data),
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--no-eval",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads((out / "model.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.slow
def test_training_twice_gives_the_same_bytes_and_a_working_model(
    tiny_data: Path, tmp_path: Path
) -> None:
    first = _train(tiny_data, tmp_path / "a")
    second = _train(tiny_data, tmp_path / "b")
    assert first["sha256"] == second["sha256"]
    for name in ("model.npz", "span_tagger.npz", "span_tagger.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    card = json.loads((tmp_path / "a" / "model_card.json").read_text())
    assert card["sha256"] == first["sha256"]
    assert {row["corpus"] for row in card["data"]} >= set(TRAINING_CORPORA)
    assert "THREAT" in (tmp_path / "a" / "MODEL_CARD.md").read_text()

    scorer = Scorer(tmp_path / "a").load()
    rude, kind = scorer.score(["you stupid moron", "thanks for the article"])
    assert rude["TOXICITY"] > kind["TOXICITY"]
    spam, ham = scorer.score(["subscribe to my channel www.example.com", "see you at the game"])
    assert spam["SPAM"] > ham["SPAM"]
    flirt, plain = scorer.score(["hey gorgeous, call me sometime", "the council meets on tuesday"])
    assert flirt["FLIRTATION"] > plain["FLIRTATION"]
    assert scorer.score(["you stupid moron"], scale="balanced")[0]["TOXICITY"] != rude["TOXICITY"]


def test_validation_rows_are_fixed_and_never_templates(tiny_data: Path) -> None:
    frame = pipeline.load_corpora(tiny_data)
    again = pipeline.load_corpora(tiny_data)
    assert list(frame["split"]) == list(again["split"])
    assert set(frame.loc[frame["corpus"] == "civility_templates", "split"]) == {"train"}
    corpora = frame[frame["corpus"] != "civility_templates"]
    assert 0.05 < (corpora["split"] == "valid").mean() < 0.4


def test_a_text_its_corpus_calls_not_toxic_is_a_threat_negative(tiny_data: Path) -> None:
    frame = pipeline.load_corpora(tiny_data)
    davidson = frame[frame["corpus"] == "davidson2017_tweets"]
    assert (davidson.loc[davidson["TOXICITY"] == 0, "THREAT"] == 0).all()
    assert davidson.loc[davidson["TOXICITY"] == 1, "THREAT"].isna().all()  # a toxic one: unknown


def test_the_threat_corpora_teach_threat_and_change_no_other_head(tiny_data: Path) -> None:
    shipped = pipeline.load_corpora(tiny_data)
    without = pipeline.load_corpora(tiny_data, list(TRAINING_CORPORA))
    extra = shipped["corpus"].isin(THREAT_CORPORA).to_numpy()
    assert extra.any() and not shipped.loc[extra, "vocabulary"].any()
    assert shipped.loc[extra, "THREAT"].sum() > 0 and without["vocabulary"].all()
    for name in NAMES:
        if name != "THREAT":
            assert shipped.loc[extra, name].isna().all(), name
    a = pipeline.fit_model(shipped[shipped["split"] == "train"])
    b = pipeline.fit_model(without[without["split"] == "train"])
    # The threat corpora's words shape no vocabulary (some are theirs alone: "neck").
    assert a.blocks[0].vocabulary == b.blocks[0].vocabulary
    novel = {w for t in THREATS for w in t.lower().split()} - set(b.blocks[0].vocabulary)
    assert novel and not novel & set(a.blocks[0].vocabulary)
    j = NAMES.index("THREAT")
    others = [k for k in range(len(NAMES)) if k != j]
    assert np.array_equal(a.coef[:, others], b.coef[:, others])
    assert np.array_equal(a.intercept[others], b.intercept[others])
    assert not np.array_equal(a.coef[:, j], b.coef[:, j])


def test_weights_balance_classes_inside_each_corpus() -> None:
    corpus = np.array(["a"] * 10 + ["b"] * 40)
    y = np.array([1] * 2 + [0] * 8 + [1] * 20 + [0] * 20)
    w = pipeline.sample_weights(corpus, y)
    for name in ("a", "b"):
        inside = corpus == name
        assert w[inside & (y == 1)].sum() == pytest.approx(w[inside & (y == 0)].sum())
    # Bigger corpora weigh more, but less than in proportion to their size.
    ratio = w[corpus == "b"].sum() / w[corpus == "a"].sum()
    assert 1.0 < ratio < 4.0


def test_typed_span_heads_are_measured_on_the_typed_gold(tiny_data: Path) -> None:
    from civility.train.spans import cross_validate_typed_spans

    result = cross_validate_typed_spans(tiny_data, folds=2)
    assert set(result) == {"insult", "threat", "identity_attack", "profane"}
    # Every toxic tiny post has an insult span and nothing else is typed.
    assert result["insult"]["posts"] == len(TOXIC)
    assert all(result[h]["posts"] == 0 for h in ("threat", "identity_attack", "profane"))
    assert result["insult"]["f1"] > 0.5
    # No post is labelled a threat, so the threat head learnt nothing and must never fire:
    # the scorer's candidates for THREAT are then the generic head's.
    assert result["threat"]["f1_all"] == result["threat"]["generic_f1_all"] > 0.0


def test_a_notion_is_its_corpus_toxicity_else_its_largest_mapped_attribute() -> None:
    nan = float("nan")
    toxic = pd.DataFrame({"TOXICITY": [1.0, 0.0, nan], "IDENTITY_ATTACK": [1.0, 1.0, 1.0]})
    assert np.array_equal(notions.notion_target(toxic)[:2], [1.0, 0.0])
    assert np.isnan(notions.notion_target(toxic)[2])
    hate = pd.DataFrame(
        {"TOXICITY": [nan, nan, nan], "IDENTITY_ATTACK": [1.0, 0.0, nan], "THREAT": [0, 1, nan]}
    )
    target = notions.notion_target(hate)
    assert np.array_equal(target[:2], [1.0, 1.0]) and np.isnan(target[2])


def test_notion_heads_leave_every_score_as_it_was_and_reach_the_adapter(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civility import adapt
    from civility.model import load_model, save_model

    monkeypatch.setattr(notions, "MIN_ROWS", 10)
    monkeypatch.setattr(notions, "MIN_CLASS", 3)
    frame = pipeline.load_corpora(tiny_data)
    model = pipeline.fit_model(frame[frame["split"] == "train"])
    everything = pipeline.notion_frame(tiny_data)
    fitted = notions.fit_notions(model, everything, exclude=["olid2019_train"])
    assert "civil_comments_spans" in fitted.notions and "olid2019_train" not in fitted.notions
    assert fitted.notion_coef is not None and fitted.notion_coef.shape[1] == len(fitted.notions)
    texts = ["you stupid moron", "thanks for the article", "subscribe to my channel"]
    assert np.array_equal(model.predict_proba(texts), fitted.predict_proba(texts))
    assert model.notion_logits(model.features(texts)).shape == (3, 0)

    save_model(fitted, tmp_path)
    loaded = load_model(tmp_path)
    x = loaded.features(texts)
    assert loaded.notions == fitted.notions
    assert np.array_equal(loaded.notion_logits(x), fitted.notion_logits(x))  # half precision both
    # Each head ranks its own corpus's toxic texts above its clean ones.
    civil = everything[everything["corpus"] == "civil_comments_spans"]
    j = loaded.notions.index("civil_comments_spans")
    z = loaded.notion_logits(loaded.features(list(civil["normalized"])))[:, j]
    toxic = civil["TOXICITY"].to_numpy() == 1
    assert z[toxic].mean() > z[~toxic].mean()

    base = adapt.base_outputs(Scorer(tmp_path).load(), texts)
    width = len(loaded.attributes)
    assert base.logits.shape == (3, width + len(loaded.notions))
    assert np.allclose(base.logits[:, width:], loaded.notion_logits(base.features))
    assert base.probs.shape == (3, width)
