"""Split a comment into plain and highlighted segments from its spans (code-point offsets).

Templates render the segments with autoescaping on, so markup in a comment stays text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Segment:
    text: str
    attributes: tuple[str, ...] = ()  # the attributes whose spans cover this stretch
    score: float = 0.0  # the strongest span score covering it

    @property
    def title(self) -> str:
        return ", ".join(self.attributes) + f" (span score {self.score:.2f})"


def segments(
    text: str,
    spans: Mapping[str, Sequence[Sequence[float]]],
    only: Sequence[str] | None = None,
) -> list[Segment]:
    """Plain and highlighted stretches of ``text``, in order, covering it exactly once."""
    cover: list[tuple[int, int, str, float]] = []
    for attribute, items in spans.items():
        if only is not None and attribute not in only:
            continue
        for begin, end, score in items:
            b, e = max(0, int(begin)), min(len(text), int(end))
            if b < e:
                cover.append((b, e, attribute, float(score)))
    cuts = sorted({0, len(text), *(c[0] for c in cover), *(c[1] for c in cover)})
    out: list[Segment] = []
    for b, e in pairwise(cuts):
        hits = [c for c in cover if c[0] <= b and e <= c[1]]
        names = tuple(sorted({c[2] for c in hits}))
        seg = Segment(text[b:e], names, max((c[3] for c in hits), default=0.0))
        if out and out[-1].attributes == seg.attributes and not names:
            out[-1] = Segment(out[-1].text + seg.text)
        else:
            out.append(seg)
    return out
