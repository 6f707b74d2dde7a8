"""``AdaptedScorer``: a :class:`~civility.scorer.Scorer` with one site's adapter applied.

Everything a ``Scorer`` computes goes through :meth:`AdaptedScorer.probabilities`, so
``score()``, its spans (occlusion re-scores texts through the same method) and every door that
takes a ``Scorer`` see the site's adapted scores:

* on the class-balanced scale (``scale="balanced"``, the one policies decide on) the scores are
  :meth:`civility.adapt.SiteAdapter.apply`'s;
* on Perspective's scale (the default) each adapted attribute's base probability is moved by the
  same log-odds shift the adapter applies on the balanced scale,
  ``p' = sigmoid(logit(p_perspective) + logit(adapted_balanced) - logit(base_balanced))``.

An attribute without an active adapter is the base's, byte for byte, on either scale: the base
model's features are computed once per batch and its probabilities are computed from them
exactly as :meth:`civility.model.LinearModel.predict_proba` computes them.

The site and version are the adapter's label, ``"SITE/vN"`` (:attr:`AdaptedScorer.adapter`),
which every door reports through :func:`adapter_label` (``None`` for a plain ``Scorer``);
``version`` stays the base model's version, and :func:`labelled_version` is what stored and
printed scores call the pair ("BASE+SITE/vN").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from civility.adapt import SiteAdapter, base_output_batches
from civility.errors import InvalidInput
from civility.model import logit, sigmoid
from civility.model.linear import SCALES
from civility.scorer import Scorer

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def adapter_label(scorer: Scorer | None) -> str | None:
    """``"SITE/vN"`` when ``scorer`` applies a site's adapter, else ``None``."""
    label = getattr(scorer, "adapter", None)
    return label if isinstance(label, str) else None


def labelled_version(model_version: str, scorer: Scorer | None) -> str:
    """``model_version``, read "BASE+SITE/vN" when ``scorer`` applies a site's adapter."""
    label = adapter_label(scorer)
    return model_version if label is None else f"{model_version}+{label}"


class AdaptedScorer(Scorer):
    """``scorer`` (loaded) with ``adapter`` applied: the scores of ``site``'s adapter version
    ``version``. Refuses an adapter trained on another base (``ModelError``)."""

    def __init__(self, scorer: Scorer, adapter: SiteAdapter, *, site: str, version: int) -> None:
        model = scorer.model  # raises when the base is not loaded
        adapter.check_base(scorer)
        super().__init__(scorer.model_dir, batch_size=scorer.batch_size)
        # Share the base's loaded parts (no second copy of the model in memory).
        self.model_ = model
        self.tagger_ = scorer.tagger_
        self._vocabulary = scorer._vocabulary
        self._words = scorer._words
        self.base = scorer
        self.site_adapter = adapter
        self.site = site
        self.adapter_version = int(version)
        self._active = [a for a in adapter.active if a in model.attributes]

    @property
    def adapter(self) -> str:
        """The label of the adapter that scores: ``"SITE/vN"``."""
        return f"{self.site}/v{self.adapter_version}"

    def load(self) -> AdaptedScorer:
        """Already loaded (the base was): returns ``self``."""
        return self

    def __repr__(self) -> str:
        return f"AdaptedScorer({self.adapter!r}, base={self.version!r}, active={self._active!r})"

    def probabilities(
        self, normalized_texts: Sequence[str], *, scale: str = "perspective"
    ) -> FloatArray:
        """The base's probabilities with the site's active adapters applied (see the module)."""
        if scale not in SCALES:
            raise InvalidInput(
                f"Unknown score scale {scale!r}: expected one of {', '.join(SCALES)}."
            )
        if not self._active:
            return self.base.probabilities(normalized_texts, scale=scale)
        model = self.model
        if not normalized_texts:
            return np.zeros((0, len(model.attributes)))
        # One feature pass per batch (as the base batches), both scales from it.
        columns = [model.attributes.index(a) for a in self._active]
        parts = []
        for base in base_output_batches(
            self.base,
            normalized_texts,
            normalized=True,
            notion_logits=not self.site_adapter.folds_notions,
        ):
            adapted = self.site_adapter.apply(base)
            if scale == "balanced":
                parts.append(adapted)
                continue
            out = model.proba_of_logits(model.logits_of(base.features, scale=scale), scale=scale)
            shift = logit(adapted[:, columns]) - logit(base.probs[:, columns])
            out[:, columns] = sigmoid(logit(out[:, columns]) + shift)
            parts.append(out)
        return np.vstack(parts)

    def to_bytes(self) -> bytes:
        """The adapter's bytes (a worker rebuilds the scorer with :meth:`from_bytes`)."""
        return self.site_adapter.to_bytes()

    @classmethod
    def from_bytes(cls, scorer: Scorer, data: bytes, *, site: str, version: int) -> AdaptedScorer:
        """Rebuild from :meth:`to_bytes` on ``scorer`` (its base: another base is refused)."""
        return cls(scorer, SiteAdapter.from_bytes(data, scorer), site=site, version=version)
