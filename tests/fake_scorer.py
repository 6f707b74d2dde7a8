"""A small deterministic fake scorer behind the seam the app, the importer and the report take
(a ``Scorer``): for store, queue and web tests that need scores but not the model's."""

from __future__ import annotations

import re
from collections.abc import Sequence

from civility import attributes as attrs
from civility.errors import InvalidInput
from civility.scorer import Scorer, Scores, Span

# Words the fake scorer finds hostile, and how much each adds to TOXICITY.
HOSTILE = {
    "idiot": 0.9,
    "idiots": 0.9,
    "idi0t": 0.9,
    "moron": 0.9,
    "stupid": 0.8,
    "loser": 0.8,
    "pathetic": 0.7,
    "fool": 0.6,
    "hurt": 0.7,
    "kill": 0.9,
    "shut": 0.5,
}
_WORD = re.compile(r"[\w']+")


class FakeScorer(Scorer):
    """Scores by counting hostile words: deterministic, instant, no model file.

    Every attribute gets the same score: ``0.02`` for a text without hostile words, else the
    largest weight in ``HOSTILE`` of the words it contains; spans cover those words.
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
    ) -> list[Scores]:
        if isinstance(texts, str):
            raise InvalidInput(
                "Scorer.score takes a sequence of texts. Got a single str; wrap it in a list."
            )
        wanted = attrs.normalize_names(list(attributes) if attributes is not None else None)
        out = []
        for text in texts:
            hits = [
                (m, HOSTILE[m.group().lower()])
                for m in _WORD.finditer(text)
                if m.group().lower() in HOSTILE
            ]
            value = max((w for _, w in hits), default=0.02)
            found = tuple(Span(m.start(), m.end(), w) for m, w in hits)
            out.append(
                Scores(
                    values={a: value for a in wanted},
                    spans={a: found for a in wanted} if spans else {},
                    model_version=self.VERSION,
                )
            )
        return out
