"""The labelled site the adapter tests share: moderators who reject comments about crypto, a
rule the base model does not know."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from civility.store import LabelledText, text_key

MODERATORS = ("ann", "bob", "cat", "dan")
SUBJECTS = ("the council", "this article", "the new road", "the referee", "the budget")
ENDINGS = ("fine to me", "a bit late", "quite interesting", "worth reading", "about right")


@dataclass(frozen=True)
class Decided:
    index: int
    text: str  # ends in " #index", so every text is distinct
    toxic: bool
    moderator: str


def crypto_decisions(
    n: int, seed: int = 1, *, start: int = 0, subjects: Sequence[str] = SUBJECTS
) -> Iterator[Decided]:
    """``n`` decisions (indices ``start``..), about 40% rejections of crypto talk, spread over
    four moderators in turn."""
    rng = random.Random(seed)
    for i in range(start, start + n):
        text = f"{rng.choice(subjects)} is {rng.choice(ENDINGS)}"
        toxic = rng.random() < 0.4
        if toxic:
            text += rng.choice((" buy crypto now", " crypto is the answer", " ask me about crypto"))
        yield Decided(i, f"{text} #{i}", toxic, MODERATORS[i % 4])


CRYPTO = "the budget is fine to me buy crypto now"


def crypto_site(n: int, seed: int = 1, *, start: int = 0) -> list[LabelledText]:
    """:func:`crypto_decisions` as the store's labels: a site whose moderators reject comments
    about crypto (a rule the base does not know), each decision by its moderator."""
    return [
        LabelledText(
            text_key(d.text),
            d.text,
            "TOXICITY",
            int(d.toxic),
            "moderator",
            f"moderator:{d.moderator}",
        )
        for d in crypto_decisions(n, seed, start=start)
    ]
