"""The door's pure parts: calibration from feedback, HTML and UTF-16 offsets."""

from __future__ import annotations

import pytest

from civility.api._calibration import Correction
from civility.api._offsets import Utf16
from civility.store import FeedbackPair
from civility.text import strip_html


def test_few_pairs_nudge_and_many_pairs_dominate() -> None:
    few = Correction([FeedbackPair(0.3, 0.9)] * 2)
    many = Correction([FeedbackPair(0.3, 0.9)] * 200)
    assert 0.3 < few(0.3) < many(0.3) <= 0.9
    assert Correction([FeedbackPair(0.6, 0.1)] * 20)(0.6) < 0.6


@pytest.mark.parametrize(
    "pairs",
    [
        [FeedbackPair(0.2, 0.8), FeedbackPair(0.7, 0.1)],
        [FeedbackPair(x / 10, 1 - x / 10) for x in range(11)],
    ],
    ids=["two-crossing", "reversed"],
)
def test_corrections_stay_monotone_maps_of_the_unit_interval(pairs: list[FeedbackPair]) -> None:
    correction = Correction(pairs)
    values = [correction(x / 100) for x in range(101)]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)


def test_html_text_keeps_offsets_into_the_markup() -> None:
    source = "<p>Tom &amp; Jerry</p><script>x()</script><b>bad</b>"
    text = strip_html(source)
    assert text.text.split() == ["Tom", "&", "Jerry", "bad"]
    begin = text.text.index("bad")
    assert source[slice(*text.to_original(begin, begin + 3))] == "bad"
    amp = text.text.index("&")
    assert source[slice(*text.to_original(amp, amp + 1))] == "&amp;"


def test_utf16_offsets_count_astral_characters_twice() -> None:
    to16 = Utf16("a😀b")
    assert [to16(i) for i in range(4)] == [0, 1, 3, 4]
    assert Utf16("plain")(3) == 3
