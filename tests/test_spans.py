"""Explaining spans: the span tagger, its artifact, its measure, and the scorer's spans."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from civility.errors import ModelError
from civility.model.spans import ARRAYS_FILE, GENERIC, SpanTagger
from civility.scorer import Scorer
from civility.text import normalize
from civility.train.spans import char_f1, token_labels

# A made-up insult the tagger cannot know from its word lists: it must learn it.
TAUGHT = "blorft"
TABLE = [
    f"you are a {TAUGHT}",
    f"what a {TAUGHT} this man is",
    f"{TAUGHT} go home",
    f"the {TAUGHT} wrote this again",
    "you are a teacher",
    "what a day this has been",
    "go home early today",
    "the editor wrote this again",
    "a nice article about the town",
    "thanks for the kind words",
]


@pytest.fixture(scope="module")
def tiny_tagger() -> SpanTagger:
    norms = [normalize(t) for t in TABLE]
    labels = [[int(tok.norm == TAUGHT) for tok in n.tokens] for n in norms]
    return SpanTagger().fit(norms, {GENERIC: labels}, seed=0, c=1.0)


@pytest.fixture(scope="module")
def scorer(real_scorer: Scorer) -> Scorer:
    return real_scorer


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        pytest.param(set(), set(), 1.0, id="both-empty"),
        pytest.param({1, 2}, set(), 0.0, id="gold-empty"),
        pytest.param(set(), {1, 2}, 0.0, id="prediction-empty"),
        pytest.param({1, 2, 3}, {4, 5}, 0.0, id="disjoint"),
        pytest.param({1, 2, 3, 4}, {1, 2, 3, 4}, 1.0, id="exact"),
        # 2 of 4 predicted are right (P = 1/2), 2 of 3 gold are found (R = 2/3): F1 = 4/7.
        pytest.param({0, 1, 2, 3}, {2, 3, 4}, 4 / 7, id="partial"),
    ],
)
def test_char_f1_follows_the_semeval_definition(
    predicted: set[int], gold: set[int], expected: float
) -> None:
    assert char_f1(predicted, gold) == pytest.approx(expected)


def test_a_token_is_labelled_when_at_least_half_of_it_is_in_the_gold_span() -> None:
    norm = normalize("you idiot, really")
    # "idiot" is 4..9; "really" is 11..17 and only 2 of its 6 characters are gold.
    assert token_labels(norm, set(range(4, 9)) | {11, 12}) == [0, 1, 0]


def test_the_tagger_learns_the_word_it_was_taught(tiny_tagger: SpanTagger) -> None:
    norm = normalize(f"honestly, that {TAUGHT} again")
    probs = tiny_tagger.tag(norm)
    taught = [t.norm for t in norm.tokens].index(TAUGHT)
    assert max(range(len(probs)), key=probs.__getitem__) == taught
    assert probs[taught] > 0.5 > max(p for k, p in enumerate(probs) if k != taught)


def test_spans_point_at_the_original_characters(tiny_tagger: SpanTagger) -> None:
    text = f"Honestly, that {TAUGHT.upper()}!! again"
    found = tiny_tagger.spans(text)
    assert [text[b:e] for b, e, _ in found] == [TAUGHT.upper()]


def test_a_saved_tagger_loads_and_tags_identically(tiny_tagger: SpanTagger, tmp_path: Path) -> None:
    tiny_tagger.threshold[GENERIC] = 0.4
    tiny_tagger.save(tmp_path)
    loaded = SpanTagger.load(tmp_path)
    norm = normalize(f"what a {TAUGHT}, you are a teacher")
    assert loaded.tag(norm) == tiny_tagger.tag(norm)
    assert loaded.threshold == tiny_tagger.threshold
    assert loaded.spans(norm.original) == tiny_tagger.spans(norm.original)


def test_the_generic_head_also_tags_tokens_near_the_likeliest_one() -> None:
    probs = np.array([0.05, 0.3, 0.16, 0.12, 0.5])
    tagger = SpanTagger(threshold={GENERIC: 0.45}, fallback=0.0, relative=0.3)
    assert tagger.selected(probs) == [1, 2, 4]  # 0.16 >= 0.3 * 0.5 > 0.12
    assert tagger.selected(probs, fallback=False) == [4]  # the threshold alone
    tagger.fallback = 0.6  # the likeliest token is not likely enough: the threshold alone
    assert tagger.selected(probs) == [4]


def test_without_a_relative_share_the_fallback_is_the_one_likeliest_token() -> None:
    tagger = SpanTagger(threshold={GENERIC: 0.6}, fallback=0.2)
    assert tagger.relative == 1.0
    assert tagger.selected(np.array([0.3, 0.1, 0.3])) == [0]
    assert tagger.selected(np.array([0.15, 0.1])) == []


def test_the_relative_share_is_saved_and_an_older_artifact_loads_without_it(
    tiny_tagger: SpanTagger, tmp_path: Path
) -> None:
    meta_path = replace(tiny_tagger, relative=0.5, fallback=0.1).save(tmp_path)
    assert SpanTagger.load(tmp_path).relative == 0.5
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    del meta["relative"]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert SpanTagger.load(tmp_path).relative == 1.0


def test_a_corrupted_tagger_artifact_is_refused(tiny_tagger: SpanTagger, tmp_path: Path) -> None:
    tiny_tagger.save(tmp_path)
    path = tmp_path / ARRAYS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError) as info:
        SpanTagger.load(tmp_path)
    assert (
        info.value.message
        == f"Span tagger arrays {path} do not match the checksum in span_tagger.json."
    )


def test_the_shipped_scorer_loads_its_span_tagger(scorer: Scorer) -> None:
    assert scorer.tagger_ is not None
    assert GENERIC in scorer.tagger_.heads_


def test_spans_of_an_obfuscated_insult_cover_the_original_characters(scorer: Scorer) -> None:
    text = "you are an idi0t"
    spans = scorer.score([text], spans=True)[0].spans
    covered = {text[s.begin : s.end] for attr in ("TOXICITY", "INSULT") for s in spans[attr]}
    assert "idi0t" in covered
    insult = scorer.score(["honestly " + text], spans=True)[0].spans["INSULT"]
    assert any("idi0t" in ("honestly " + text)[s.begin : s.end] for s in insult)
