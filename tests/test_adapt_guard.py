"""The severe guard by source: texts the base finds severe may be lowered where several
moderators approve them, never on the strength of one account's approvals."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from adapt_support import MODERATORS, crypto_decisions

from civility import adapt
from civility.adapt import AdaptSettings, Example, SiteAdapter, fit_adapter
from civility.model import write_npz
from civility.scorer import Scorer

SUBJECTS = ("the council", "this article", "the new road", "the referee", "the mayor")
SLURS = ("faggot", "nigger", "kike", "spic", "tranny", "raghead")


def _site_examples(n: int, seed: int) -> list[Example]:
    """Moderators who reject comments that mention "crypto" and approve the rest."""
    return [
        Example(f"site-{d.index}", d.text, int(d.toxic), d.moderator)
        for d in crypto_decisions(n, seed, subjects=SUBJECTS)
    ]


SEVERE = "SEVERE_TOXICITY"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer().load()


def _run_by(i: int) -> str:
    return f"{SUBJECTS[i % len(SUBJECTS)]} is run by a {SLURS[i % len(SLURS)]} #{i}"


def _approvals(sources: tuple[str, ...], n: int = 200) -> list[Example]:
    return [Example(f"q-{i}", _run_by(i), 0, sources[i % len(sources)]) for i in range(n)]


PROBE = [_run_by(1000 + i) for i in range(12)]


def _lowered(scorer: Scorer, adapter: SiteAdapter) -> tuple[np.ndarray, np.ndarray]:
    """Per probe text: TOXICITY lowered below the base by (adapted), and whether severe."""
    outputs = adapt.base_outputs(scorer, PROBE)
    tox = scorer.attributes.index("TOXICITY")
    severe = outputs.probs[:, scorer.attributes.index(SEVERE)] >= adapter.settings.severe_guard
    drop = outputs.probs[:, tox] - adapter.apply(outputs, only_active=False)[:, tox]
    return drop, severe


def test_severe_texts_that_every_moderator_approves_may_be_lowered(scorer: Scorer) -> None:
    examples = _site_examples(400, seed=11) + _approvals(MODERATORS)
    by_source = fit_adapter(scorer, {"TOXICITY": examples})
    report = by_source.summary()["TOXICITY"]
    assert report["active"] and report["severe_guard"] == "source", report
    assert report["guard_dropped"] > 0
    drop, severe = _lowered(scorer, by_source)
    assert severe.sum() >= 6  # the probe is what the guard is about
    assert (drop[severe] > 0.05).all(), drop.round(3)
    # The blanket floor holds the same texts within floor_margin of the base.
    floored = fit_adapter(scorer, {"TOXICITY": examples}, AdaptSettings(severe_guard_mode="floor"))
    drop, severe = _lowered(scorer, floored)
    assert (drop[severe] <= floored.settings.floor_margin + 1e-12).all(), drop.round(3)


def test_one_accounts_approvals_of_severe_texts_lower_nothing_by_themselves(
    scorer: Scorer,
) -> None:
    """The same approvals from one account: the others approved no severe text, so the
    severe rows are floored. Where honest moderators approved a few severe texts of their
    own, the severe rows are lowered no further than without the account's approvals."""
    honest = _site_examples(400, seed=11)
    poison = _approvals(("attacker",))
    alone = fit_adapter(scorer, {"TOXICITY": honest + poison})
    assert alone.summary()["TOXICITY"]["severe_guard"] == "floor"
    drop, severe = _lowered(scorer, alone)
    assert severe.any() and (drop[severe] <= alone.settings.floor_margin + 1e-12).all()

    # Three honest moderators approved 12 severe texts (quoting, say) of another kind.
    stray = [
        Example(f"h-{i}", f"you are a {SLURS[i % len(SLURS)]} lol #{i}", 0, MODERATORS[i % 3])
        for i in range(12)
    ]
    fitted = fit_adapter(scorer, {"TOXICITY": honest + stray + poison})
    report = fitted.summary()["TOXICITY"]
    assert report["severe_guard"] == "source" and report["guard_dropped"] == 200, report
    drop, severe = _lowered(scorer, fitted)
    # Unguarded, with and without the account's approvals.
    off = AdaptSettings(severe_guard=2.0)
    without, _ = _lowered(scorer, fit_adapter(scorer, {"TOXICITY": honest + stray}, off))
    unguarded, _ = _lowered(scorer, fit_adapter(scorer, {"TOXICITY": honest + stray + poison}, off))
    assert unguarded[severe].max() > 0.3  # what the guard is there for
    assert (drop[severe] <= without[severe] + 0.05).all(), (drop.round(3), without.round(3))


def test_the_guard_round_trips_and_format_2_adapters_are_floored(scorer: Scorer) -> None:
    examples = _site_examples(400, seed=11) + _approvals(MODERATORS)
    fitted = fit_adapter(scorer, {"TOXICITY": examples})
    assert fitted.adapters["TOXICITY"].guard is not None
    loaded = SiteAdapter.from_bytes(fitted.to_bytes(), scorer)
    assert np.array_equal(loaded.score(scorer, PROBE), fitted.score(scorer, PROBE))

    # The same adapter as format 2 wrote it (no guard): read, its severe rows floored.
    meta, arrays = fitted.to_arrays()
    meta["format"] = 2
    del meta["adapters"]["TOXICITY"]["guard"]
    arrays = {k: v for k, v in arrays.items() if ".guard." not in k}
    del meta["settings"]["severe_guard_mode"]
    buf = io.BytesIO()
    write_npz(buf, arrays, extra={"adapter.json": json.dumps(meta)})
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        assert json.loads(zf.read("adapter.json"))["format"] == 2
    old = SiteAdapter.from_bytes(buf.getvalue(), scorer)
    assert old.adapters["TOXICITY"].guard is None
    drop, severe = _lowered(scorer, old)
    assert severe.any() and (drop[severe] <= old.settings.floor_margin + 1e-12).all()
    drop_new, _ = _lowered(scorer, loaded)
    assert (drop_new[severe] > 0.05).all()


def test_lone_terms_may_only_raise_when_asked(scorer: Scorer) -> None:
    """``lone_terms`` "raise": a word one account alone labelled may count toward the
    attribute (never against it)."""
    honest = _site_examples(400, seed=11)
    # Only "ann" labels texts with "harbour": toxic ones; only "bob" with "marina": civil ones.
    extra = [Example(f"hb-{i}", f"the harbour is a scam {i}", 1, "ann") for i in range(40)] + [
        Example(f"mr-{i}", f"the marina is a scam {i}", 0, "bob") for i in range(40)
    ]

    def weight(fitted: SiteAdapter, word: str) -> float:
        ad = fitted.adapters["TOXICITY"]
        (words,) = [b for b in ad.site_blocks if b.name == "site_words"]
        return float(ad.w_site[words.vocabulary[word]])

    zero = fit_adapter(scorer, {"TOXICITY": honest + extra})
    assert abs(weight(zero, "harbour")) < 1e-3 and abs(weight(zero, "marina")) < 1e-3
    raise_only = fit_adapter(
        scorer, {"TOXICITY": honest + extra}, AdaptSettings(lone_terms="raise")
    )
    assert weight(raise_only, "harbour") > 0.05
    assert weight(raise_only, "marina") >= 0.0
