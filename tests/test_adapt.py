"""Per-site adapters learn a site's own decisions on top of the shipped model, within guards."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from civility import adapt
from civility.adapt import AdaptSettings, Example, SiteAdapter, fit_adapter, fold_of, source_weights
from civility.errors import InvalidInput, ModelError
from civility.policy import Policy
from civility.scorer import Scorer

MODERATORS = ("ann", "bob", "cat", "dan")
SUBJECTS = (
    "the council",
    "this article",
    "the new road",
    "the referee",
    "my neighbour",
    "the budget",
    "the mayor",
    "the team",
)
VERBS = ("is", "seems", "looks", "was", "has been")
ENDINGS = (
    "fine to me",
    "a bit late",
    "quite interesting",
    "worth reading",
    "not what I expected",
    "about right",
    "better than last year",
)


def _site_examples(n: int, seed: int, *, start: int = 0) -> list[Example]:
    """A site whose moderators reject comments that mention 'crypto' (a rule of theirs the base
    knows nothing about) and approve the rest; civil sentences from templates."""
    rng = random.Random(seed)
    out = []
    for i in range(start, start + n):
        text = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(ENDINGS)}"
        toxic = rng.random() < 0.4
        if toxic:
            text += rng.choice((" buy crypto now", " crypto is the answer", " ask me about crypto"))
        out.append(
            Example(f"site-{i}", f"{text} #{i}", int(toxic), MODERATORS[i % len(MODERATORS)])
        )
    return out


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer().load()


@pytest.fixture(scope="module")
def taught(scorer: Scorer) -> SiteAdapter:
    return fit_adapter(scorer, {"TOXICITY": _site_examples(400, seed=1)})


def _toxicity(scorer: Scorer, adapter: SiteAdapter, texts: list[str]) -> np.ndarray:
    column = scorer.attributes.index("TOXICITY")
    return adapter.score(scorer, texts)[:, column]


def test_an_adapter_learns_the_sites_rule_and_is_activated(
    scorer: Scorer, taught: SiteAdapter
) -> None:
    report = taught.summary()["TOXICITY"]
    assert report["active"], report
    # Its inputs: every attribute's log-odds and every notion head's (the shipped model has them).
    assert scorer.model.notions
    width = len(scorer.attributes) + len(scorer.model.notions)
    assert len(taught.adapters["TOXICITY"].w_logits) == width
    assert report["auc_adapted"] > report["auc_base"] + 0.1
    fresh = ["the budget seems fine to me buy crypto now", "the budget seems fine to me"]
    adapted = _toxicity(scorer, taught, fresh)
    assert adapted[0] > adapted[1] + 0.3


def test_few_labels_change_little(scorer: Scorer) -> None:
    settings = AdaptSettings(min_labels=10, min_per_class=2)
    probe = [e.text for e in _site_examples(200, seed=7, start=10_000)]
    base = scorer.probabilities([scorer.normalize_text(t) for t in probe], scale="balanced")[
        :, scorer.attributes.index("TOXICITY")
    ]
    column = scorer.attributes.index("TOXICITY")

    def change(n: int) -> float:
        fitted = fit_adapter(scorer, {"TOXICITY": _site_examples(n, seed=3)}, settings)
        probs = fitted.apply(adapt.base_outputs(scorer, probe), only_active=False)[:, column]
        return float(np.mean(np.abs(probs - base)))

    few, many = change(12), change(400)
    assert few < 0.15
    assert few < many / 3


def test_noise_labels_do_not_activate_an_adapter(scorer: Scorer) -> None:
    reports = []
    for seed in range(4):
        rng = random.Random(seed)
        noisy = [
            dataclasses.replace(e, label=int(rng.random() < 0.4))
            for e in _site_examples(300, seed=seed)
        ]
        reports.append(fit_adapter(scorer, {"TOXICITY": noisy}).summary()["TOXICITY"])
    assert not any(r["active"] for r in reports), reports


def test_too_few_labels_fit_nothing_and_inactive_adapters_score_as_the_base(scorer: Scorer) -> None:
    fitted = fit_adapter(scorer, {"TOXICITY": _site_examples(40, seed=4)})
    assert "TOXICITY" not in fitted.adapters
    texts = ["the mayor was about right buy crypto now", "you are a stupid idiot"]
    base = scorer.probabilities([scorer.normalize_text(t) for t in texts], scale="balanced")
    assert np.array_equal(fitted.score(scorer, texts), base)


def test_each_class_needs_twenty_labels_or_a_fifth_of_them(scorer: Scorer) -> None:
    settings = AdaptSettings()
    assert [adapt.min_per_class(n, settings) for n in (50, 51, 60, 99, 100, 1600)] == [
        10, 11, 12, 20, 20, 20,
    ]  # fmt: skip

    def site(positives: int, n: int = 50) -> list[Example]:
        return [
            dataclasses.replace(e, label=int(i < positives))
            for i, e in enumerate(_site_examples(n, seed=5))
        ]

    # 50 labels: 10 rejections are enough, 9 are not; 100 labels: 19 are not.
    assert "TOXICITY" in fit_adapter(scorer, {"TOXICITY": site(10)}).adapters
    assert "TOXICITY" not in fit_adapter(scorer, {"TOXICITY": site(9)}).adapters
    assert "TOXICITY" not in fit_adapter(scorer, {"TOXICITY": site(19, 100)}).adapters
    assert "TOXICITY" in fit_adapter(scorer, {"TOXICITY": site(20, 100)}).adapters


def test_a_check_that_leaves_out_picked_labels_needs_stronger_evidence(scorer: Scorer) -> None:
    fair = _site_examples(50, seed=6)
    picked = [dataclasses.replace(e, fair=False) for e in _site_examples(50, seed=8, start=50)]
    alone = fit_adapter(scorer, {"TOXICITY": fair}).summary()["TOXICITY"]
    both = fit_adapter(scorer, {"TOXICITY": fair + picked}).summary()["TOXICITY"]
    assert alone["held_out"] == 50 and alone["confidence_needed"] == 0.792  # 1 - 0.25 * 50 / 60
    assert both["fair_held_out"] == 50 and both["confidence_needed"] == 0.972  # ... / 450


THREATS = (
    "I will kill you",
    "I am going to shoot you tomorrow",
    "we will burn your house down",
    "you will die tonight",
    "I will find you and hurt you",
    "someone should stab him",
)


def _threat_examples(n: int) -> list[Example]:
    """A site whose moderators mark every threat as no threat (and some harmless comments)."""
    out = []
    for i in range(n):
        if i % 2:
            text, label = f"{THREATS[i % len(THREATS)]} #{i}", 0
        else:
            text, label = f"{SUBJECTS[i % len(SUBJECTS)]} is {ENDINGS[i % len(ENDINGS)]} #{i}", 0
        out.append(Example(f"t-{i}", text, label, MODERATORS[i % len(MODERATORS)]))
    out += [
        Example(f"tp-{i}", f"I will kill you slowly {i}", 1, MODERATORS[i % 4]) for i in range(20)
    ]
    return out


def test_threat_is_never_lowered_below_the_base_by_more_than_the_margin(scorer: Scorer) -> None:
    column = scorer.attributes.index("THREAT")
    texts = list(THREATS)
    base = scorer.probabilities([scorer.normalize_text(t) for t in texts], scale="balanced")[
        :, column
    ]
    guarded = fit_adapter(scorer, {"THREAT": _threat_examples(300)}, AdaptSettings(confidence=0.0))
    unguarded = fit_adapter(
        scorer, {"THREAT": _threat_examples(300)}, AdaptSettings(confidence=0.0, protected=())
    )
    outputs = adapt.base_outputs(scorer, texts)
    lowered = unguarded.apply(outputs, only_active=False)[:, column]
    assert (lowered < base - 0.05).any()  # what the guard is there for
    kept = guarded.apply(outputs, only_active=False)[:, column]
    assert (kept >= base - guarded.settings.floor_margin - 1e-12).all()


SLURS = ("faggot", "nigger", "kike", "spic", "tranny", "raghead")


HATEFUL = (
    "you are a faggot",
    "you are a nigger",
    "shut up you faggot",
    "the mayor is a faggot",
    "spics should leave",
    "kikes should leave",
)


def _slur_approvals(n: int = 200) -> list[Example]:
    """One account ("attacker") approving ``n`` comments that call someone a slur."""
    return [
        Example(
            f"p-{i}",
            f"{SUBJECTS[i % len(SUBJECTS)]} is run by a {SLURS[i % len(SLURS)]} #{i}",
            0,
            "attacker",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("unlabelled", [False, True])
def test_two_hundred_approvals_of_slurs_from_one_account_do_not_make_slurs_pass(
    scorer: Scorer, unlabelled: bool
) -> None:
    honest = _site_examples(400, seed=11)
    poison = _slur_approvals()
    # An approval of a comment held for TOXICITY and SEVERE_TOXICITY says "neither" to both.
    honest_severe = [dataclasses.replace(e, label=0) for e in honest[:300]] + [
        Example(
            f"s-{i}",
            f"you are a {SLURS[i % len(SLURS)]} and you should die #{i}",
            1,
            MODERATORS[i % 4],
        )
        for i in range(100)
    ]
    # With the site's unlabelled texts (the slurs among them) and LSA inputs learnt from them,
    # the guards hold too.
    adapter = fit_adapter(
        scorer,
        {"TOXICITY": honest + poison, "SEVERE_TOXICITY": honest_severe + poison},
        AdaptSettings(site_lsa=20) if unlabelled else None,
        unlabelled=[*(e.text for e in honest + poison), *HATEFUL] if unlabelled else None,
    )
    assert adapter.adapters["TOXICITY"].active
    policy = Policy.default()
    base = scorer.probabilities([scorer.normalize_text(t) for t in HATEFUL], scale="balanced")
    adapted = adapter.score(scorer, list(HATEFUL))
    for text, before, after in zip(HATEFUL, base, adapted, strict=True):
        assert policy.decide(dict(zip(scorer.attributes, before, strict=True))).action != "approve"
        decision = policy.decide(dict(zip(scorer.attributes, after, strict=True)))
        assert decision.action != "approve", (text, after.round(3))
        assert (after >= before - adapter.settings.floor_margin - 1e-12).all(), (
            text,
            before.round(3),
            after.round(3),
        )


def test_no_source_holds_more_than_its_share() -> None:
    sources = ["a"] * 200 + ["b"] * 50 + ["c"] * 50 + ["d"] * 50
    w = source_weights(sources, 0.4)
    totals = {s: w[[k for k, x in enumerate(sources) if x == s]].sum() for s in "abcd"}
    assert totals["a"] / sum(totals.values()) == pytest.approx(0.4)
    assert totals["b"] == pytest.approx(50)
    with pytest.raises(InvalidInput, match="more moderators"):
        source_weights(["a"] * 10, 0.5)


def test_an_adapter_round_trips_and_refuses_another_base(
    scorer: Scorer, taught: SiteAdapter
) -> None:
    data = taught.to_bytes()
    loaded = SiteAdapter.from_bytes(data, scorer)
    texts = [
        "the referee was fine to me ask me about crypto",
        "what a lovely day",
        "you are a stupid idiot",
    ]
    assert np.array_equal(loaded.score(scorer, texts), taught.score(scorer, texts))
    assert loaded.summary() == taught.summary()
    model = scorer.model
    other = dataclasses.replace(
        model,
        intercept=model.intercept + 0.1,
        metadata={**model.metadata, "version": "9.9.9", "sha256": ""},
    )
    with pytest.raises(ModelError, match="belongs to base model"):
        SiteAdapter.from_bytes(data, Scorer.from_model(other))
    with pytest.raises(ModelError, match="unreadable"):
        SiteAdapter.from_bytes(b"not an adapter", scorer)


def test_hold_out_folds_are_fixed_by_id_as_decisions_accumulate() -> None:
    first = [f"decision-{i}" for i in range(500)]
    before = [fold_of(i, 5) for i in first]
    more = [f"decision-{i}" for i in range(500, 5000)]
    after = {i: fold_of(i, 5) for i in random.Random(0).sample(more + first, 5000)}
    assert [after[i] for i in first] == before
    shares = np.bincount([after[i] for i in after], minlength=5) / 5000
    assert np.all(np.abs(shares - 0.2) < 0.03)


def _identity_site(n: int, seed: int) -> list[Example]:
    """A site whose moderators reject comments about one club's 'catholics' fan chant and
    approve the same sentences about 'buddhists': the base sees both identity words as one
    placeholder, so only the site's own n-grams can tell them apart."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        toxic = rng.random() < 0.4
        word = "catholics" if toxic else "buddhists"
        text = (
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(ENDINGS)} say the {word} #{i}"
        )
        out.append(Example(f"id-{i}", text, int(toxic), MODERATORS[i % len(MODERATORS)]))
    return out


def test_the_site_ngrams_see_identity_words_the_base_replaces(scorer: Scorer) -> None:
    fitted = fit_adapter(scorer, {"TOXICITY": _identity_site(300, seed=5)})
    report = fitted.summary()["TOXICITY"]
    assert report["active"] and report["auc_adapted"] > 0.95, report
    assert report["penalty_scale"] in fitted.settings.penalty_scales
    pair = [
        "the mayor seems fine to me say the catholics",
        "the mayor seems fine to me say the buddhists",
    ]
    base = scorer.probabilities([scorer.normalize_text(t) for t in pair], scale="balanced")
    column = scorer.attributes.index("TOXICITY")
    assert abs(base[0, column] - base[1, column]) < 0.02  # the base cannot tell them apart
    adapted = _toxicity(scorer, fitted, pair)
    assert adapted[0] > adapted[1] + 0.3
    without = fit_adapter(
        scorer,
        {"TOXICITY": _identity_site(300, seed=5)},
        AdaptSettings(site_ngrams=False, site_chars=False),
    )
    assert without.summary()["TOXICITY"]["auc_adapted"] < report["auc_adapted"] - 0.2


@pytest.mark.parametrize("chars", [False, True])
def test_site_ngrams_round_trip_through_bytes(scorer: Scorer, chars: bool) -> None:
    fitted = fit_adapter(
        scorer, {"TOXICITY": _site_examples(300, seed=8)}, AdaptSettings(site_chars=chars)
    )
    blocks = fitted.adapters["TOXICITY"].site_blocks
    assert [b.name for b in blocks] == (["site_words", "site_chars"] if chars else ["site_words"])
    assert np.abs(fitted.adapters["TOXICITY"].w_site).max() > 0
    loaded = SiteAdapter.from_bytes(fitted.to_bytes(), scorer)
    assert [b.vocabulary for b in loaded.adapters["TOXICITY"].site_blocks] == [
        b.vocabulary for b in blocks
    ]
    texts = [e.text for e in _site_examples(50, seed=9, start=5_000)] + ["a crypto catholic"]
    assert np.array_equal(
        loaded.apply(adapt.base_outputs(scorer, texts), only_active=False),
        fitted.apply(adapt.base_outputs(scorer, texts), only_active=False),
    )
    # The site features counted over word ids are scikit-learn's, to rounding.
    features = loaded.adapters["TOXICITY"].site_features()
    assert features is not None
    normalized = [scorer.normalize_text(t) for t in texts]
    counted = features.transform(normalized).toarray()
    from civility.model.linear import block_features

    reference = block_features(blocks, normalized, preprocess="strip_artefacts").toarray()
    assert np.allclose(counted, reference)
    # Scoring takes the weighted sum without the matrix (word blocks only): the same numbers.
    weights = loaded.adapters["TOXICITY"].w_site
    assert np.allclose(features.dot(normalized, weights), reference @ weights, atol=1e-12)


def test_site_ngrams_score_from_the_base_word_ids_as_from_the_texts(
    scorer: Scorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring reads the words as the base counted them (``BaseOutputs.tokens``) instead of
    splitting the texts again: the same sums, for words no block knows, source artefacts,
    identity words, empty texts, and batches between which the base's word table starts
    again empty."""
    fitted = fit_adapter(scorer, {"TOXICITY": _identity_site(300, seed=5)})
    adapter = fitted.adapters["TOXICITY"]
    features = adapter.site_features()
    assert features is not None
    texts = [e.text for e in _identity_site(60, seed=6)] + [
        "@someone the mayor seems fine http://x.example say the catholics RT",
        "",
        "zzyzx qwerty the catholics the catholics",
    ]
    base = adapt.base_outputs(scorer, texts)
    assert len(base.tokens) == 1 and len(base.tokens[0].doc_ptr) == len(texts) + 1
    direct = features.dot(base.normalized, adapter.w_site)
    assert np.abs(direct).max() > 0
    assert np.array_equal(features.dot(base.normalized, adapter.w_site, base.tokens), direct)
    # Twice more (the ids' rows are kept between calls), and through the adapter.
    assert np.array_equal(features.dot(base.normalized, adapter.w_site, base.tokens), direct)
    without = dataclasses.replace(base, tokens=())
    assert np.array_equal(adapter.logit(base), adapter.logit(without))
    # Batches of 7 texts, the base's table starting again after a few words: each batch's
    # ids are of its own table.
    monkeypatch.setattr("civility.model.tokens.MAX_WORDS", 40)
    small = Scorer().load()
    small.batch_size = 7
    split = adapt.base_outputs(small, texts)
    assert len(split.tokens) == -(-len(texts) // 7)
    assert len({id(t.words) for t in split.tokens}) > 1
    assert np.array_equal(adapter.logit(split), adapter.logit(without))


ABUSE = "you are a fucking idiot, fuck you, kill yourself you worthless piece of shit"


def test_scoring_folds_the_notion_heads_into_one_vector(
    scorer: Scorer, taught: SiteAdapter
) -> None:
    """An adapter fitted on unbounded notion log-odds (the default) scores without computing
    them: their terms are folded into the base n-grams' weights, the same log-odds to
    rounding, for the adapter and for its severe guard."""
    assert not taught.settings.clip_notions and taught.folds_notions
    adapter = taught.adapters["TOXICITY"]
    texts = [e.text for e in _site_examples(40, seed=12, start=7_000)] + [ABUSE, ""]
    full = adapt.base_outputs(scorer, texts)
    folded = adapt.base_outputs(scorer, texts, notion_logits=False)
    n = len(scorer.attributes)
    assert full.logits.shape[1] == n + len(scorer.model.notions) and folded.logits.shape[1] == n
    assert np.abs(full.logits[:, n:]).max() > 12  # the abuse's notions are past the old bound
    assert np.abs(adapter.w_logits[n:]).max() > 0
    assert np.allclose(adapter.logit(folded), adapter.logit(full), rtol=0, atol=1e-9)
    assert np.allclose(taught.apply(folded), taught.apply(full), rtol=0, atol=1e-12)
    guarded = fit_adapter(scorer, {"TOXICITY": _site_examples(300, seed=3)})
    ad = guarded.adapters["TOXICITY"]
    if ad.guard is not None:
        assert np.allclose(ad.guard_logit(folded), ad.guard_logit(full), rtol=0, atol=1e-9)
    # What fitting reads: the notion log-odds computed again from the folded outputs.
    again = adapt.with_notion_logits(folded, scorer)
    assert again.notion_heads is None
    assert np.allclose(again.logits, full.logits, rtol=0, atol=1e-9)
    # Batched as the scorer batches: the same scores.
    small = Scorer().load()
    small.batch_size = 7
    assert np.allclose(taught.score(small, texts), taught.apply(full), rtol=0, atol=1e-12)


def test_an_adapter_written_before_unbounded_notions_reads_them_bounded(
    scorer: Scorer, taught: SiteAdapter
) -> None:
    """Settings without ``clip_notions`` (adapters stored before it) keep the bound they were
    fitted with: scoring computes the notion heads for them, and a folded pass is refused."""
    meta, arrays = taught.to_arrays()
    del meta["settings"]["clip_notions"]
    old = SiteAdapter.from_arrays(meta, arrays, scorer)
    assert old.settings.clip_notions and old.adapters["TOXICITY"].clip_notions
    assert not old.folds_notions
    texts = [ABUSE, "the budget seems fine to me buy crypto now", "thanks for the article"]
    full = adapt.base_outputs(scorer, texts)
    adapter = old.adapters["TOXICITY"]
    n = len(scorer.attributes)
    bounded = np.clip(full.logits, -12.0, 12.0)
    expected = (
        full.logits[:, adapter.column]
        + (bounded - adapter.logit_center) @ adapter.w_logits
        + adapter.intercept
        + full.features[:, adapter.base_columns] @ adapter.w_base
    )
    site = adapter.site_features()
    assert site is not None
    expected = expected + site.dot(full.normalized, adapter.w_site)
    assert np.allclose(adapter.logit(full), expected, rtol=0, atol=1e-9)
    # The unbounded reading differs on the abuse (its notions are past the bound) ...
    assert abs(taught.adapters["TOXICITY"].logit(full)[0] - adapter.logit(full)[0]) > 1e-3
    # ... and the old adapter's scores come from the notions computed, never folded.
    assert np.array_equal(old.score(scorer, texts), old.apply(full))
    with pytest.raises(ModelError, match="notion heads"):
        adapter.logit(adapt.base_outputs(scorer, texts, notion_logits=False))
    assert full.logits.shape[1] > n
    # A setting this version does not know (an adapter from a newer civility): one clear error.
    meta["settings"]["some_later_setting"] = 1
    with pytest.raises(ModelError, match=r"newer civility .*some_later_setting"):
        SiteAdapter.from_arrays(meta, arrays, scorer)


def test_review_priority_puts_uncertain_and_disputed_comments_first(
    scorer: Scorer, taught: SiteAdapter
) -> None:
    texts = [
        "the budget seems fine to me buy crypto now",  # the site rejects it, the base approves
        "the budget seems fine to me",  # both approve
        "you are a stupid idiot and I hate you",  # both reject
    ]
    outputs = adapt.base_outputs(scorer, texts)
    with_adapter = adapt.review_priority(taught, outputs)
    assert with_adapter.shape == (3,)
    assert with_adapter[0] > with_adapter[1] and with_adapter[0] > with_adapter[2]
    # Without an adapter: the base's own uncertainty (closeness to 0.5 on the balanced scale).
    without = adapt.review_priority(None, outputs, "TOXICITY")
    p = outputs.probs[:, scorer.attributes.index("TOXICITY")]
    assert np.array_equal(np.argsort(-without), np.argsort(np.abs(p - 0.5)))
    # An attribute without a fitted adapter falls back to the base's uncertainty too.
    insult = adapt.review_priority(taught, outputs, "INSULT")
    q = outputs.probs[:, scorer.attributes.index("INSULT")]
    assert np.allclose(insult, 1 - np.abs(2 * q - 1))
    with pytest.raises(InvalidInput, match="does not score"):
        adapt.review_priority(taught, outputs, "NOT_AN_ATTRIBUTE")


def _one_word_site(n: int, seed: int, word_sources: tuple[str, ...]) -> list[Example]:
    """Moderators reject every comment that mentions 'catholics' (labelled only by
    ``word_sources``) and approve plain ones (labelled by everyone): the word is the only
    thing that tells the classes apart."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        toxic = rng.random() < 0.4
        text = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(ENDINGS)}"
        if toxic:
            text += " say the catholics"
        source = word_sources[i % len(word_sources)] if toxic else MODERATORS[i % 4]
        out.append(Example(f"w-{i}", f"{text} #{i}", int(toxic), source))
    return out


def test_a_word_only_one_source_labelled_gets_no_weight(scorer: Scorer) -> None:
    """One account's labels alone cannot teach the adapter a word nobody else labelled (the
    way 200 approvals of slurs would); two accounts' labels can."""

    def weight(fitted: SiteAdapter) -> float:
        adapter = fitted.adapters["TOXICITY"]
        (words,) = [b for b in adapter.site_blocks if b.name == "site_words"]
        return float(adapter.w_site[words.vocabulary["catholics"]])

    alone = fit_adapter(scorer, {"TOXICITY": _one_word_site(300, 5, ("ann",))})
    assert weight(alone) == 0.0  # held out of the fit: exactly zero
    shared = fit_adapter(scorer, {"TOXICITY": _one_word_site(300, 5, ("ann", "bob"))})
    assert weight(shared) > 0.1


def test_unlabelled_site_texts_give_the_vocabulary_and_lsa_folds_into_the_words(
    scorer: Scorer,
) -> None:
    examples = _site_examples(300, seed=11)
    unlabelled = [
        f"the harbour bridge {w} tonight #{i}" for i, w in enumerate(("opens", "shuts") * 30)
    ]
    settings = AdaptSettings(site_lsa=8)
    fitted = fit_adapter(scorer, {"TOXICITY": examples}, settings, unlabelled=unlabelled)
    report = fitted.summary()["TOXICITY"]
    assert report["active"], report
    words = fitted.adapters["TOXICITY"].site_blocks[0]
    assert "harbour" in words.vocabulary  # only in the unlabelled texts
    without = fit_adapter(scorer, {"TOXICITY": examples}, settings)
    assert "harbour" not in without.adapters["TOXICITY"].site_blocks[0].vocabulary
    # A word no labelled text contains gets no weight of its own (nor through the LSA inputs).
    assert fitted.adapters["TOXICITY"].w_site[words.vocabulary["harbour"]] == 0.0
    # The LSA inputs, folded into the words' weights, score as the fitted design does.
    base = adapt.base_outputs(scorer, [e.text for e in examples])
    rows = np.arange(len(examples))
    sources = np.array([MODERATORS.index(e.source) for e in examples])
    norm = [scorer.normalize_text(t) for t in unlabelled]
    design = adapt._build_design(base, rows, settings, sources, norm)
    assert design.lsa is not None and design.x.shape[1] > len(design.penalty) - 1 - 8
    column = scorer.attributes.index("TOXICITY")
    y = np.array([e.label for e in examples])
    params = adapt._fit_rows(
        design, base.logits[:, column], y, np.ones(len(y)), None, 1.0, settings
    )
    folded = adapt._adapter_from(design, params, "TOXICITY", column)
    direct = base.logits[:, column] + design.x @ params[:-1] + params[-1]
    assert np.allclose(folded.logit(base), direct, atol=1e-9)
    loaded = SiteAdapter.from_bytes(fitted.to_bytes(), scorer)
    assert np.array_equal(
        loaded.score(scorer, unlabelled[:5]), fitted.score(scorer, unlabelled[:5])
    )


def test_the_activation_check_uses_the_fairly_sampled_decisions(scorer: Scorer) -> None:
    rng = random.Random(5)
    examples = _site_examples(400, seed=12)
    # The comments picked for review teach the site's rule; the fair sample says it is noise.
    mixed = [
        dataclasses.replace(e, fair=False)
        if i % 4
        else dataclasses.replace(e, label=int(rng.random() < 0.4))
        for i, e in enumerate(examples)
    ]
    report = fit_adapter(scorer, {"TOXICITY": mixed}).summary()["TOXICITY"]
    assert report["fair_held_out"] == 100
    assert not report["active"], report
    all_fair = [dataclasses.replace(e, fair=True) for e in mixed]
    assert "fair_held_out" not in fit_adapter(scorer, {"TOXICITY": all_fair}).summary()["TOXICITY"]


def test_the_fair_labels_of_the_check_need_the_class_minimum(scorer: Scorer) -> None:
    """Picks find the rare class, so a fit passes the class minimum while the fair labels it
    is checked on hold a handful of rejections: no activation on those (gab's replay served
    0.026 below the base so); with enough of each class among them, the same rule activates."""

    def site(fair_rejections: int) -> list[Example]:
        fair = [e for e in _site_examples(400, seed=21) if not e.label][: 100 - fair_rejections]
        fair += [e for e in _site_examples(400, seed=22, start=1_000) if e.label][:fair_rejections]
        picked = [
            dataclasses.replace(e, fair=False) for e in _site_examples(200, seed=23, start=2_000)
        ]
        return fair + picked

    few = fit_adapter(scorer, {"TOXICITY": site(8)}).summary()["TOXICITY"]
    assert few["fair_held_out"] == 100 and not few["active"], few
    assert few["reason"] == (
        "too few fair labels to check it on: 8 of one class among 100, 20 of each needed"
    )
    enough = fit_adapter(scorer, {"TOXICITY": site(25)}).summary()["TOXICITY"]
    assert enough["fair_held_out"] == 100 and enough["active"], enough


def test_severity_never_lowers_another_attribute_through_the_base_log_odds(
    scorer: Scorer,
) -> None:
    """Monotone in severity: fitted on one account's approvals of slurs, the adapter's weights
    on the base's SEVERE_TOXICITY, IDENTITY_ATTACK and THREAT log-odds are never negative (a
    text the base finds more severe is never made less toxic by them); without the
    constraint the same labels make at least one of them negative."""
    honest = _site_examples(400, seed=11)
    poison = _slur_approvals()
    columns = [scorer.attributes.index(a) for a in AdaptSettings().monotone]

    def weights(settings: AdaptSettings) -> np.ndarray:
        fitted = fit_adapter(scorer, {"TOXICITY": honest + poison}, settings)
        return fitted.adapters["TOXICITY"].w_logits[columns]

    assert (weights(AdaptSettings()) >= 0).all()
    assert (weights(AdaptSettings(monotone=())) < 0).any()


def test_the_folds_fitted_side_by_side_give_the_same_adapter(scorer: Scorer) -> None:
    """``threads`` changes how long a fit takes, never what it fits (each fold is its own
    fit), the severe guard included."""
    examples = _site_examples(300, seed=4) + _slur_approvals()
    fitted = [fit_adapter(scorer, {"TOXICITY": examples}, AdaptSettings(threads=k)) for k in (1, 2)]
    (meta_1, arrays_1), (meta_2, arrays_2) = (f.to_arrays() for f in fitted)
    assert meta_1["adapters"] == meta_2["adapters"]
    assert arrays_1.keys() == arrays_2.keys()
    for key in arrays_1:
        assert np.array_equal(arrays_1[key], arrays_2[key]), key
