"""Which words of a comment to highlight: the one highlighter of the HTML report and the queue.

Spans (code-point offsets, ``end`` exclusive) come from ``Scorer.score(spans=True)`` or, in
the store, as ``[begin, end, score]`` lists. A reader sees the spans of attributes that
decided the comment or scored at least ``SHOWN_ATTRIBUTE_MIN``, and among them only spans
that move the score by ``HIGHLIGHT_MIN`` or more: lower-scoring attributes still have spans
(the JSON and the store keep them), but highlighting them would paint harmless words on
every approved comment. Each character shows the strongest shown span covering it.

Templates render the segments with autoescaping on, so markup in a comment stays text.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

SHOWN_ATTRIBUTE_MIN = 0.3
HIGHLIGHT_MIN = 0.05


class _Span(Protocol):
    @property
    def begin(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Segment:
    """A stretch of the text, with the strongest shown span covering it (none: ``""``)."""

    text: str
    attribute: str = ""
    score: float = 0.0

    @property
    def attributes(self) -> tuple[str, ...]:
        return (self.attribute,) if self.attribute else ()

    @property
    def label(self) -> str:
        return f"{self.attribute} +{self.score:.2f}" if self.attribute else ""

    @property
    def title(self) -> str:
        return f"{self.attribute} (span score {self.score:.2f})"


def _bounds(span: _Span | Sequence[float]) -> tuple[int, int, float]:
    if isinstance(span, Sequence):
        begin, end, score = span
        return int(begin), int(end), float(score)
    return span.begin, span.end, span.score


def segments(
    text: str,
    spans: Mapping[str, Iterable[_Span | Sequence[float]]],
    values: Mapping[str, float],
    deciding: Collection[str] = (),
) -> list[Segment]:
    """``text`` cut into segments, in order and covering it exactly once, each with the
    strongest shown span over it; ``values`` are the comment's scores, ``deciding`` the
    attributes of its decision's reasons."""
    if not text:
        return [Segment(text)]
    level = [0.0] * len(text)
    label = [""] * len(text)
    for attribute, items in spans.items():
        if attribute not in deciding and values.get(attribute, 0.0) < SHOWN_ATTRIBUTE_MIN:
            continue
        for begin, end, score in map(_bounds, items):
            if score < HIGHLIGHT_MIN:
                continue
            for k in range(max(0, begin), min(len(text), end)):
                if score > level[k]:
                    level[k], label[k] = score, attribute
    pieces: list[Segment] = []
    start = 0
    for k in range(1, len(text) + 1):
        if k == len(text) or (label[k], f"{level[k]:.2f}") != (label[start], f"{level[start]:.2f}"):
            pieces.append(Segment(text[start:k], label[start], level[start]))
            start = k
    return pieces
