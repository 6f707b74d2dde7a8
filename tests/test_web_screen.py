"""What the moderator's screen shows, in real headless Chromium at desktop and phone widths:
attachment-only cards, colours by status, one title per thread, the queue opening at its top,
a header that fits 375 px, the favicon, and the Feedback page's misses. Scores come ready-made
through ``import_thread(scores=...)`` so what is held does not depend on the model; one test
imports the example page with the shipped model, as the issue's screenshots did. Screenshots
go to $CIVILITY_ARTIFACTS (or tmp_path)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM
from web_fixtures import serve

from civility.ingest import read_thread
from civility.policy import Policy
from civility.scorer import Scorer, Scores, Span
from civility.store import Store, create_user, import_file, import_thread
from civility.thread import Article, Comment, Thread

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "southfront-syria-comments.txt"
POLICY = Policy.from_dict(
    {"name": "screen", "thresholds": {"TOXICITY": {"hold": 0.5, "reject": 0.97}}}
)
TITLE = "Council approves the new budget and schools plan after a long night"
OTHER_TITLE = "Harbour bridge closed for repairs until spring"
RED = "rgb(179, 38, 30)"  # --reject
RED_BACKGROUND = "rgb(253, 236, 234)"
TRANSPARENT = "rgba(0, 0, 0, 0)"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1200, "height": 800}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

LONG = "\n\n".join(
    f"Paragraph {i}: the stupid council spent the whole budget on consultants again, "
    "and nobody on the committee read the report before voting for it."
    for i in range(30)
)


def _scores(text: str, toxicity: float, word: str | None = None) -> Scores:
    spans: dict[str, tuple[Span, ...]] = {}
    if word is not None:
        begin = text.index(word)
        spans["TOXICITY"] = (Span(begin, begin + len(word), toxicity * 0.8),)
    values = {"TOXICITY": toxicity, "INSULT": toxicity / 2, "THREAT": 0.01}
    return Scores(values, spans, model_version="screen-test")


# (comment, scores or None for no prose); worst first, the first one far taller than a window.
BUDGET: list[tuple[Comment, Scores | None]] = [
    (Comment("long", "Rant Writer", LONG), _scores(LONG, 0.95, "stupid")),
    (
        Comment(
            "pics", "Pic Poster", "", attachments=("comment image", "https://example.org/a.png")
        ),
        None,
    ),
    (
        Comment("meh", "Mild Critic", "A stupid plan, but I will live with it."),
        _scores("A stupid plan, but I will live with it.", 0.40, "stupid"),
    ),
    (
        Comment("rude", "Rude Reader", "Shut up, you clown, nobody asked you."),
        _scores("Shut up, you clown, nobody asked you.", 0.70, "clown"),
    ),
    (
        Comment("nice", "Kind Reader", "Thanks for the clear reporting."),
        _scores("Thanks for the clear reporting.", 0.02),
    ),
]
BRIDGE: list[tuple[Comment, Scores | None]] = [
    (
        Comment("b1", "Angry Driver", "Whoever planned this is an idiot."),
        _scores("Whoever planned this is an idiot.", 0.80, "idiot"),
    ),
]


def _import(store: Store, title: str, key: str, rows: list[tuple[Comment, Scores | None]]) -> None:
    thread = Thread(Article(title, ("First paragraph.",)), tuple(c for c, _ in rows))
    import_thread(store, thread, site="news", key=key, scores=[s for _, s in rows], policy=POLICY)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CIVILITY_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    store = Store.open(f"sqlite:///{tmp_path / 'civility.db'}")
    _import(store, TITLE, "budget", BUDGET)
    _import(store, OTHER_TITLE, "bridge", BRIDGE)
    create_user(store, "ada", "ada-password", "admin")
    with serve(store) as base:
        yield store, base
    store.close()


def _page(browser: Any, base: str, viewport: dict[str, int], path: str = "/queue") -> Any:
    page = browser.new_page(viewport=viewport)
    page.goto(base + path)
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "ada-password")
    page.click("button:has-text('Log in')")
    page.wait_for_url(base + path)
    page.wait_for_selector(".item.current, main")
    return page


def _card(page: Any, author: str) -> Any:
    return page.locator(".item", has=page.locator(".author", has_text=author))


def _style(locator: Any, prop: str) -> str:
    return str(locator.evaluate(f"el => getComputedStyle(el).{prop}"))


def test_an_attachment_only_comment_says_what_it_holds_and_why_it_is_held(
    site: tuple[Store, str], browser: Any, artifacts: Path
) -> None:
    _, base = site
    page = _page(browser, base, DESKTOP)
    card = _card(page, "Pic Poster")
    assert card.locator(".attachments .label").inner_text() == "Attachments only: 1 image, 1 link"
    listed = card.locator(".attachments li")
    assert listed.all_inner_texts() == ["comment image", "https://example.org/a.png"]
    link = card.locator(".attachments a")
    assert link.get_attribute("href") == "https://example.org/a.png"
    assert "nofollow" in (link.get_attribute("rel") or "")
    assert card.locator(".why").inner_text().strip() == "not scored (no text) → hold"
    assert card.locator(".score").inner_text() == "—"  # not a score of 0.00
    assert card.locator("details.scores").count() == 0
    card.screenshot(path=str(artifacts / "attachment-card.png"))


def test_approved_comments_are_neutral_and_only_held_or_rejected_ones_are_coloured(
    site: tuple[Store, str], browser: Any, artifacts: Path
) -> None:
    _, base = site
    page = _page(browser, base, DESKTOP, "/queue?status=all")
    approved = _card(page, "Mild Critic")
    assert "status-approved" in (approved.get_attribute("class") or "")
    score = approved.locator(".score")
    assert _style(score, "color") != RED
    assert _style(score, "backgroundColor") != RED_BACKGROUND
    mark = approved.locator("mark")
    assert mark.count() == 1  # the span is still there to hover
    assert _style(mark, "backgroundColor") == TRANSPARENT
    held_mark = _card(page, "Rude Reader").locator("mark")
    assert _style(held_mark, "backgroundColor") != TRANSPARENT
    assert _style(_card(page, "Rude Reader").locator(".score"), "color") != RED  # held: amber
    assert _style(_card(page, "Rant Writer").locator(".score"), "color") != RED
    page.screenshot(path=str(artifacts / "queue-all.png"), full_page=True)


def test_the_queue_shows_each_thread_title_once_not_on_every_card(
    site: tuple[Store, str], browser: Any, artifacts: Path
) -> None:
    _, base = site
    page = _page(browser, base, DESKTOP)
    headings = page.locator("#queue .thread-heading a")
    assert headings.all_inner_texts() == [TITLE, OTHER_TITLE]  # worst thread first
    queue_text = page.inner_text("#queue")
    assert queue_text.count(TITLE) == 1 and queue_text.count(OTHER_TITLE) == 1
    for text in page.locator("#queue .item").all_inner_texts():
        assert TITLE not in text and OTHER_TITLE not in text
    # Each card still leads to its comment in the thread.
    first = page.locator("#queue .item").nth(0)
    href = first.locator("a.thread-link").get_attribute("href")
    assert href is not None and href.endswith(f"#comment-{first.get_attribute('data-id')}")
    page.goto(base + href)
    assert page.inner_text("main").count(TITLE) == 1  # the thread page's heading only
    page.screenshot(path=str(artifacts / "thread-title-once.png"), full_page=True)


def test_the_queue_opens_at_its_top_and_j_k_still_move_through_it(
    site: tuple[Store, str], browser: Any, artifacts: Path
) -> None:
    _, base = site
    page = _page(browser, base, {"width": 1000, "height": 600})
    first = page.locator("#queue .item").nth(0)
    assert _card(page, "Rant Writer").get_attribute("data-id") == first.get_attribute("data-id")
    assert first.evaluate("el => el.getBoundingClientRect().height") > 600
    page.wait_for_function("document.readyState === 'complete'")
    assert "current" in (first.get_attribute("class") or "")
    assert page.evaluate("window.scrollY") == 0
    assert page.locator("h1").evaluate("el => el.getBoundingClientRect().top") >= 0
    page.screenshot(path=str(artifacts / "queue-on-load.png"))

    top = "el => el.getBoundingClientRect().top"
    page.keyboard.press("j")
    second = page.locator("#queue .item").nth(1)
    assert "current" in (second.get_attribute("class") or "")
    assert 0 <= second.evaluate(top) < 600
    page.keyboard.press("k")
    assert "current" in (first.get_attribute("class") or "")
    assert 0 <= first.evaluate(top) < 600  # its top in view, not its bottom edge


PAGES = (
    "/queue",
    "/queue?status=all",
    "/feedback",
    "/audit",
    "/teach",
    "/admin/users",
    "/admin/policy",
    "/adapters",
)


def test_every_page_fits_a_375_px_phone_without_horizontal_overflow(
    site: tuple[Store, str], browser: Any, artifacts: Path
) -> None:
    _, base = site
    page = _page(browser, base, PHONE)
    page.screenshot(path=str(artifacts / "queue-phone.png"))
    for path in PAGES:
        page.goto(base + path)
        nav = page.locator("header.top nav")
        assert nav.evaluate("el => el.scrollWidth <= el.clientWidth"), path
        rights = page.locator("header.top nav a").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().right)"
        )
        assert len(rights) == 7 and max(rights) <= PHONE["width"], (path, rights)
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), path
    page.goto(base + "/feedback")
    page.screenshot(path=str(artifacts / "feedback-phone.png"), full_page=True)


def test_the_favicon_is_served_and_linked(site: tuple[Store, str], browser: Any) -> None:
    _, base = site
    page = _page(browser, base, DESKTOP)
    icon = page.request.get(base + "/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/")
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    hrefs = page.locator("head link[rel=icon]").evaluate_all("els => els.map(e => e.href)")
    assert base + "/favicon.ico" in hrefs
    for href in hrefs:
        response = page.request.get(href)
        assert response.status == 200 and response.headers["content-type"].startswith("image/")


def test_feedback_counts_a_rejection_the_policy_missed_once_not_under_every_attribute(
    site: tuple[Store, str], browser: Any, artifacts: Path
) -> None:
    _, base = site
    page = _page(browser, base, DESKTOP, "/queue?status=all")
    # Reject one comment the policy approved (flagged for nothing), and one it held for TOXICITY.
    for author in ("Mild Critic", "Rude Reader"):
        card = _card(page, author)
        card.locator("button[data-action=reject]").click()
        page.wait_for_selector(f"#comment-{card.get_attribute('data-id')}.status-rejected")
    page.goto(base + "/feedback")
    page.screenshot(path=str(artifacts / "feedback.png"), full_page=True)
    headers = page.locator("table.feedback th").all_inner_texts()
    assert not any("Missed" in h for h in headers)
    rows = [r.split("\t") for r in page.locator("table.feedback tbody tr").all_inner_texts()]
    assert rows == [["TOXICITY", "1", "0", "0%"]]  # INSULT and THREAT flagged nothing
    assert page.locator(".missed-count").inner_text() == "1"
    assert "1 comment rejected by a moderator" in page.inner_text(".missed")


def test_the_example_pages_attachment_only_comment_is_not_a_blank_card(
    tmp_path: Path, browser: Any, artifacts: Path
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'civility.db'}")
    import_file(store, EXAMPLE, site="southfront", scorer=Scorer().load())
    create_user(store, "ada", "ada-password", "admin")
    only = [c for c in read_thread(EXAMPLE).comments if c.attachments and not c.text]
    assert len(only) == 1
    try:
        with serve(store) as base:
            page = _page(browser, base, DESKTOP)
            assert page.evaluate("window.scrollY") == 0
            page.screenshot(path=str(artifacts / "example-queue-desktop.png"))
            card = page.locator(".item.unscored")
            assert card.count() == 1
            assert card.locator(".attachments .label").inner_text() == "Attachments only: 1 image"
            assert card.locator(".attachments li").inner_text() == only[0].attachments[0]
            assert "not scored (no text)" in card.locator(".why").inner_text()
            page.screenshot(path=str(artifacts / "example-queue-desktop-full.png"), full_page=True)
            phone = _page(browser, base, PHONE)
            assert phone.evaluate("window.scrollY") == 0
            phone.screenshot(path=str(artifacts / "example-queue-phone.png"))
    finally:
        store.close()
