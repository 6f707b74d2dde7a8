"""``AdaptedScorer``: a site's adapter applied through the ``Scorer`` seam, the base's scores
byte for byte wherever no adapter is active."""

from __future__ import annotations

import numpy as np
import pytest
from adapt_support import crypto_decisions

from civility.adapt import AdaptSettings, Example, SiteAdapter, fit_adapter
from civility.adapted import AdaptedScorer
from civility.errors import InvalidInput, ModelError
from civility.scorer import Scorer

PROBE = [
    "the budget is fine to me buy crypto now",
    "the budget is fine to me",
    "You are a stupid idiot and a moron.",
    "I will find you and hurt you.",
    "Thanks for the clear reporting, very informative.",
    "",
]


def crypto_site(n: int, seed: int = 1) -> list[Example]:
    """A site whose moderators reject comments about crypto (a rule the base does not know)."""
    return [
        Example(f"e-{d.index}", d.text, int(d.toxic), d.moderator)
        for d in crypto_decisions(n, seed)
    ]


@pytest.fixture(scope="module")
def taught(real_scorer: Scorer) -> SiteAdapter:
    adapter = fit_adapter(real_scorer, {"TOXICITY": crypto_site(300)})
    assert adapter.active == ["TOXICITY"]
    return adapter


def _norm(scorer: Scorer, texts: list[str]) -> list[str]:
    return [scorer.normalize_text(t) for t in texts]


def test_the_adapted_attribute_moves_and_every_other_is_the_base_byte_for_byte(
    real_scorer: Scorer, taught: SiteAdapter
) -> None:
    scorer = AdaptedScorer(real_scorer, taught, site="example", version=3)
    assert (scorer.adapter, scorer.site, scorer.adapter_version) == ("example/v3", "example", 3)
    assert scorer.version == real_scorer.version and scorer.base is real_scorer
    assert not hasattr(real_scorer, "adapter")
    tox = real_scorer.attributes.index("TOXICITY")
    others = [j for j in range(len(real_scorer.attributes)) if j != tox]
    norms = _norm(real_scorer, PROBE)
    for scale in ("balanced", "perspective"):
        base = real_scorer.probabilities(norms, scale=scale)
        adapted = scorer.probabilities(norms, scale=scale)
        assert adapted[:, others].tobytes() == base[:, others].tobytes(), scale
        assert adapted[0, tox] > base[0, tox] + 0.2, scale  # crypto: now toxic for this site
    # The balanced scale is the adapter's own output.
    assert np.array_equal(
        scorer.probabilities(norms, scale="balanced"), taught.score(real_scorer, PROBE)
    )
    # Perspective's scale moves by the balanced scale's log-odds shift.
    bal_b = real_scorer.probabilities(norms, scale="balanced")[:, tox]
    bal_a = scorer.probabilities(norms, scale="balanced")[:, tox]
    per_b = real_scorer.probabilities(norms)[:, tox]
    per_a = scorer.probabilities(norms)[:, tox]

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)

    assert np.allclose(logit(per_a) - logit(per_b), logit(bal_a) - logit(bal_b), atol=1e-6)


def test_score_and_spans_go_through_the_adapter(real_scorer: Scorer, taught: SiteAdapter) -> None:
    scorer = AdaptedScorer(real_scorer, taught, site="example", version=1)
    text = ["the budget is fine to me buy crypto now"]
    base = real_scorer.score(text, spans=True)[0]
    adapted = scorer.score(text, spans=True)[0]
    assert adapted["TOXICITY"] > base["TOXICITY"] + 0.2
    assert adapted.model_version == base.model_version
    assert {k: v for k, v in adapted.values.items() if k != "TOXICITY"} == {
        k: v for k, v in base.values.items() if k != "TOXICITY"
    }
    assert adapted.spans["INSULT"] == base.spans["INSULT"]
    # What the adapter learnt is what the spans show: the word "crypto".
    shown = {text[0][s.begin : s.end] for s in adapted.spans["TOXICITY"]}
    assert any("crypto" in s for s in shown), shown


def test_an_adapter_without_an_active_attribute_scores_as_the_base(real_scorer: Scorer) -> None:
    idle = fit_adapter(real_scorer, {"TOXICITY": crypto_site(300)}, AdaptSettings(min_gain=1.0))
    assert idle.active == []
    scorer = AdaptedScorer(real_scorer, idle, site="example", version=2)
    norms = _norm(real_scorer, PROBE)
    for scale in ("balanced", "perspective"):
        assert (
            scorer.probabilities(norms, scale=scale).tobytes()
            == real_scorer.probabilities(norms, scale=scale).tobytes()
        )
    with pytest.raises(InvalidInput, match="Unknown score scale"):
        scorer.probabilities(norms, scale="nonsense")


def test_bytes_round_trip_and_another_base_is_refused(
    real_scorer: Scorer, taught: SiteAdapter
) -> None:
    scorer = AdaptedScorer(real_scorer, taught, site="example", version=3)
    again = AdaptedScorer.from_bytes(real_scorer, scorer.to_bytes(), site="example", version=3)
    norms = _norm(real_scorer, PROBE)
    assert again.probabilities(norms).tobytes() == scorer.probabilities(norms).tobytes()
    other = SiteAdapter.from_bytes(taught.to_bytes())
    other.base = {"version": "0.0.1", "sha256": "0" * 64}
    with pytest.raises(ModelError, match="retrain the adapter"):
        AdaptedScorer(real_scorer, other, site="example", version=3)
