"""A small deterministic fake scorer behind the seam the app, the importer and the report take
(a ``Scorer``): for store, queue and web tests that need scores but not the model's."""

from __future__ import annotations

import re
from collections.abc import Sequence

from civility import attributes as attrs
from civility.errors import InvalidInput
from civility.scorer import Scorer, Scores, Span

_INSULT = {"TOXICITY": 0.9, "INSULT": 0.95, "SEVERE_TOXICITY": 0.3}
_RUDE = {"TOXICITY": 0.7, "INSULT": 0.6}
_THREAT = {"TOXICITY": 0.85, "THREAT": 0.97, "SEVERE_TOXICITY": 0.4}
# Words the fake scorer finds hostile, and the score each gives to which attributes.
HOSTILE: dict[str, dict[str, float]] = {
    **dict.fromkeys(("idiot", "idiots", "idi0t", "moron", "stupid", "loser"), _INSULT),
    **dict.fromkeys(("pathetic", "fool", "shut"), _RUDE),
    **dict.fromkeys(("kill", "hurt"), _THREAT),
}
BASE = 0.02
_WORD = re.compile(r"[\w']+")


class FakeScorer(Scorer):
    """Scores by looking up hostile words: deterministic, instant, no model file.

    An attribute scores ``BASE`` for a text without words that ``HOSTILE`` gives it, else the
    largest score those words give it; its spans cover those words.
    """

    VERSION = "fake-1"

    def __init__(self) -> None:
        super().__init__()

    @property
    def version(self) -> str:
        return self.VERSION

    @property
    def attributes(self) -> tuple[str, ...]:
        return attrs.NAMES

    def normalize_text(self, text: str) -> str:
        return text.lower()

    def score(
        self,
        texts: Sequence[str],
        *,
        attributes: Sequence[str] | None = None,
        spans: bool = False,
        scale: str = "perspective",
    ) -> list[Scores]:
        """The fake's scores do not depend on ``scale`` (one set of hostile words)."""
        if isinstance(texts, str):
            raise InvalidInput(
                "Scorer.score takes a sequence of texts. Got a single str; wrap it in a list."
            )
        wanted = attrs.normalize_names(list(attributes) if attributes is not None else None)
        out = []
        for text in texts:
            hits = [
                (m.start(), m.end(), HOSTILE[m.group().lower()])
                for m in _WORD.finditer(text)
                if m.group().lower() in HOSTILE
            ]
            values = {a: max((w.get(a, BASE) for *_, w in hits), default=BASE) for a in wanted}
            found = {a: tuple(Span(b, e, w[a]) for b, e, w in hits if a in w) for a in wanted}
            out.append(
                Scores(values=values, spans=found if spans else {}, model_version=self.VERSION)
            )
        return out
