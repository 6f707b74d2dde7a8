"""Scoring counts n-grams over word ids; the features must be scikit-learn's to the bit."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.sparse as sp

from civility.model import lexicon, tokens
from civility.model.blocks import FeatureBlock
from civility.model.lexicon import WORD_VIEWS, LexiconBlock
from civility.model.linear import LinearModel, block_features

TRAIN = [
    "you are an idiot and a liar",
    "what a lovely day for a walk in the park",
    "shut up you stupid idiot",
    "the council voted on the budget today",
    "idiots everywhere, the park is a dump",
    "a lovely idea from the council",
] * 3

TEXTS = [
    "you are a lovely idiot",
    "",
    " ",
    "a",
    "park park park the the idiot",
    "tabs\tand  double  spaces\nand lines",
    "ünïcödé wörds and a non\u00a0breaking space",
    "never seen anywhere before xyzzy",
    "shut up",
]


def _same(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


SUPPORTED = [
    {"analyzer": "char_wb", "ngram_range": (2, 5), "lowercase": False, "sublinear_tf": True},
    {
        "analyzer": "word",
        "ngram_range": (1, 2),
        "lowercase": False,
        "sublinear_tf": True,
        "token_pattern": r"\S+",
        "dtype": "float32",
    },
    {"analyzer": "char_wb", "ngram_range": (1, 3), "lowercase": False, "sublinear_tf": False},
    {"analyzer": "word", "ngram_range": (2, 2), "lowercase": False, "token_pattern": r"\S+"},
    {
        "analyzer": "word",
        "ngram_range": (1, 1),
        "lowercase": False,
        "token_pattern": r"\S+",
        "norm": None,
    },
]


@pytest.mark.parametrize("params", SUPPORTED)
def test_counted_features_equal_the_vectorizers_to_the_bit(params: dict[str, object]) -> None:
    block = FeatureBlock("b", dict(params))
    block.fit(TRAIN)
    assert tokens.supported([block])
    counter = tokens.TokenFeatures([block], lambda w: w)
    expected = block.vectorizer().transform(TEXTS)
    assert _same(counter.transform(TEXTS), expected)
    assert _same(counter.transform(TEXTS), expected)  # again, every word known
    assert _same(counter.transform(TEXTS[::-1]), block.vectorizer().transform(TEXTS[::-1]))


def test_no_texts_give_no_rows() -> None:
    block = FeatureBlock("char", {"analyzer": "char_wb", "ngram_range": (2, 4), "lowercase": False})
    block.fit(TRAIN)
    assert block.transform([]).shape == (0, block.size)


# A whole model's features counted over word ids (civility.model.tokens) must equal the
# blocks' own, side by side, to the bit: same texts, any batch, warm or cold table.
MODEL_TRAIN = [
    "you are an idiot and a liar",
    "muslims are lovely neighbours and good people",
    "shut up you stupid idiot, i will kill you",
    "@user rt the council voted on the budget xxurl",
    "gay people are vermin and filth",
    "somebody should shoot the mayor",
    "call 0800123456 now to win a free prize",
    "a lovely idea from the council and the jews of the town",
] * 3

MODEL_TEXTS = [
    *TEXTS,
    "i hate jews and muslims , they are rats",
    "rt @user xxuser you idiot xxurl amp",
    "someone should kill the council you know",
    "you idiot you idiot you idiot",
    "kill",
    "we will shoot you",
    "jews",
    "call 12345 or 1234567890123 now",
    "never seen words qwerty asdfgh",
    "the the the council council",
]


def _model(preprocess: str | None) -> tuple[list[FeatureBlock | LexiconBlock], str | None]:
    blocks: list[FeatureBlock | LexiconBlock] = [
        FeatureBlock(
            "word",
            {
                "analyzer": "word",
                "ngram_range": (1, 2),
                "lowercase": False,
                "token_pattern": r"\S+",
                "sublinear_tf": True,
                "dtype": "float32",
            },
        ),
        FeatureBlock(
            "char",
            {
                "analyzer": "char_wb",
                "ngram_range": (2, 5),
                "lowercase": False,
                "sublinear_tf": True,
            },
        ),
        LexiconBlock(scale=0.5),
    ]
    block_features(blocks, MODEL_TRAIN, preprocess=preprocess, fit=True)
    return blocks, preprocess


@pytest.mark.parametrize("preprocess", ["ngram_view", "strip_artefacts", None])
def test_token_features_equal_the_blocks_to_the_bit(preprocess: str | None) -> None:
    blocks, _ = _model(preprocess)
    assert tokens.supported(blocks)
    view = WORD_VIEWS[preprocess] if preprocess else (lambda w: w)
    counter = tokens.TokenFeatures(blocks, view)
    expected = block_features(blocks, MODEL_TEXTS, preprocess=preprocess)
    assert _same(counter.transform(MODEL_TEXTS), expected)
    assert _same(counter.transform(MODEL_TEXTS), expected)  # warm: every word known
    for part in (MODEL_TEXTS[::-1], MODEL_TEXTS[3:7], MODEL_TEXTS[:1], [""], ["  "]):
        assert _same(counter.transform(part), block_features(blocks, part, preprocess=preprocess))
    assert counter.transform([]).shape == (0, expected.shape[1])


def test_the_word_table_is_bounded_and_refills(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks, preprocess = _model("ngram_view")
    counter = tokens.TokenFeatures(blocks, WORD_VIEWS["ngram_view"])
    monkeypatch.setattr(tokens, "MAX_WORDS", 10)
    for start in range(len(MODEL_TEXTS)):
        part = MODEL_TEXTS[start : start + 3]
        assert _same(counter.transform(part), block_features(blocks, part, preprocess=preprocess))
        assert len(counter._word_id) <= max(10, len(set(" ".join(part).split())))


def test_models_with_other_blocks_are_counted_by_the_blocks() -> None:
    trigrams = FeatureBlock(
        "w3",
        {"analyzer": "word", "ngram_range": (1, 3), "lowercase": False, "token_pattern": r"\S+"},
    )
    lowering = FeatureBlock("low", {"analyzer": "char_wb", "lowercase": True})
    chars = FeatureBlock("char", {"analyzer": "char", "lowercase": False})
    for block in (trigrams, lowering, chars):
        block.fit(TRAIN)
        assert not tokens.supported([block, LexiconBlock()])
        model = LinearModel(("TOXICITY",), [block], np.zeros((block.size, 1)), np.zeros(1))
        assert _same(model.features(TEXTS), block_features([block], TEXTS, preprocess=None))
        assert model._counter is None


# The lexicon features written word by word: the definition lexicon.batch_features computes
# with numpy over a whole batch.
def _near(tokens: list[str], a: frozenset[str], b: frozenset[str], window: int) -> int:
    near = {j for i, t in enumerate(tokens) if t in a for j in range(i - window, i + window + 1)}
    return sum(1 for j, t in enumerate(tokens) if t in b and j in near)


def _reference_features(text: str) -> list[float]:
    lx = lexicon
    tokens = text.split()
    count = dict.fromkeys(lx.FEATURES, 0)
    for name, words in lx._COUNTED:
        count[name] = sum(t in words for t in tokens)
    count["digits"] = len(re.findall(r"\d{5,}", text))
    count["targeted_insult"] = _near(
        tokens, lx.SECOND_PERSON, lx.INSULTING | lx.PROFANE | lx.SLURS, 3
    )
    for j, t in enumerate(tokens):
        if t in lx.THREAT_VERBS and any(w in lx.THREAT_AGENTS for w in tokens[max(0, j - 5) : j]):
            count["threat_pattern"] += 1
            count["threat_at_you"] += any(w in lx.SECOND_PERSON for w in tokens[j + 1 : j + 4])
    negative = lx.INSULTING | lx.DEHUMANISING | lx.SLURS | lx.PROFANE
    count["identity_negative"] = _near(tokens, lx.IDENTITY, negative, 5)
    count["identity_hate"] = _near(tokens, lx.IDENTITY, lx.HATE_VERBS | lx.THREAT_VERBS, 5)
    hostile = count["identity_negative"] or count["identity_hate"] or count["slur"]
    count["identity_mention_only"] = int(any(t in lx.IDENTITY for t in tokens) and not hostile)
    return [math.log1p(count[name]) for name in lx.FEATURES]


def test_lexicon_batch_features_follow_their_definition() -> None:
    rng = np.random.default_rng(7)
    vocabulary = sorted(
        {
            w
            for group in (
                lexicon.IDENTITY,
                lexicon.THREAT_VERBS,
                lexicon.THREAT_AGENTS,
                lexicon.SECOND_PERSON,
                lexicon.INSULTING,
                lexicon.SLURS,
                lexicon.PROFANE,
                lexicon.SEXUAL,
                lexicon.HATE_VERBS,
                lexicon.DEHUMANISING,
                lexicon.SPAM_WORDS,
            )
            for w in sorted(group)[:6]
        }
        | {"the", "a", "xxurl", "123456", "1234567890", "x", "12345x67890"}
    )
    texts = [" ".join(rng.choice(vocabulary, size=int(rng.integers(0, 14)))) for _ in range(600)]
    got = lexicon.texts_features(texts)
    assert np.array_equal(got, np.array([_reference_features(t) for t in texts]))
    assert lexicon.features_of(texts[5]) == _reference_features(texts[5])
    for name in lexicon.FEATURES:  # every feature fires somewhere, so every one is checked
        assert got[:, lexicon.FEATURES.index(name)].sum() > 0, name
    assert lexicon.texts_features([]).shape == (0, len(lexicon.FEATURES))


def test_a_model_that_has_scored_still_pickles() -> None:
    import pickle

    blocks, preprocess = _model("ngram_view")
    model = LinearModel(
        ("TOXICITY",),
        blocks,
        np.linspace(-1, 1, sum(b.size for b in blocks))[:, None],
        np.zeros(1),
        metadata={"preprocess": preprocess},
    )
    before = model.predict_proba(MODEL_TEXTS)
    assert model._counter is not None
    copy = pickle.loads(pickle.dumps(model))
    assert np.array_equal(copy.predict_proba(MODEL_TEXTS), before)


def test_threads_scoring_at_once_get_the_features_of_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server scores from a thread pool; the word table is shared and locked (a small
    # table, so that it also starts again while other threads count).
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(tokens, "MAX_WORDS", 60)
    blocks, preprocess = _model("ngram_view")
    counter = tokens.TokenFeatures(blocks, WORD_VIEWS["ngram_view"])
    parts = [[f"{t} word{i} other{i % 7}" for t in MODEL_TEXTS] for i in range(80)]
    expected = [block_features(blocks, p, preprocess=preprocess) for p in parts]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(counter.transform, parts))
    assert all(_same(g, e) for g, e in zip(got, expected, strict=True))


def test_two_word_blocks_keep_their_own_bigram_columns() -> None:
    first = FeatureBlock(
        "w1",
        {"analyzer": "word", "ngram_range": (1, 2), "lowercase": False, "token_pattern": r"\S+"},
    )
    second = FeatureBlock(
        "w2",
        {
            "analyzer": "word",
            "ngram_range": (2, 2),
            "lowercase": False,
            "token_pattern": r"\S+",
            "max_features": 7,
        },
    )
    first.fit(TRAIN)
    second.fit(MODEL_TRAIN)
    blocks: list[FeatureBlock | LexiconBlock] = [first, second]
    counter = tokens.TokenFeatures(blocks, lambda w: w)
    for part in (MODEL_TEXTS, TEXTS, MODEL_TRAIN):
        assert _same(counter.transform(part), block_features(blocks, part, preprocess=None))
