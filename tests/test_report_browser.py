"""The HTML report as a browser reads it: real headless Chromium, no network."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from civility.moderate import Analysis, CommentResult
from civility.policy import Policy
from civility.report import write_html
from civility.scorer import Scores, Span
from civility.thread import Article, Comment, Thread

pytestmark = pytest.mark.browser


def _dom(page: Path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed: apt-get install chromium"
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_chromium_renders_highlights_and_one_bar_per_comment(tmp_path: Path) -> None:
    policy = Policy.default()
    texts = ["I will hurt you </mark><b>tomorrow</b>", "Nice write-up.", ""]
    scores = [
        Scores({"THREAT": 0.9}, {"THREAT": (Span(2, 15, 0.6),)}),
        Scores({"THREAT": 0.01}),
        None,
    ]
    comments = [
        Comment(str(k), None, t, attachments=() if t else ("comment image",))
        for k, t in enumerate(texts)
    ]
    results = tuple(
        CommentResult(c, s, policy.decide(s)) if s else CommentResult(c, None, policy.decide({}))
        for c, s in zip(comments, scores, strict=True)
    )
    analysis = Analysis(
        Thread(Article("T & <U>", ("p",)), tuple(comments)), results, "default", "test"
    )
    page = tmp_path / "report.html"
    write_html(analysis, page)
    dom = _dom(page)
    marks = re.findall(r"<mark [^>]*title=\"THREAT [^\"]*\">(.*?)</mark>", dom)
    assert marks == ["will hurt you"]
    assert "&lt;/mark&gt;&lt;b&gt;tomorrow&lt;/b&gt;" in dom
    assert len(re.findall(r"<rect ", dom)) == 3
    assert "<title>civility report: T &amp; &lt;U&gt;</title>" in dom
