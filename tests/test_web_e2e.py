"""End to end in real headless Chromium: log in, work the queue by keyboard, see the audit log;
a moderator is refused the admin pages. Screenshots go to $CIVILITY_ARTIFACTS (or tmp_path)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHROMIUM
from fake_scorer import FakeScorer
from store_fixtures import make_thread
from web_fixtures import serve

from civility.policy import Policy
from civility.store import QueueFilters, Store, create_user, import_thread, queue

# Hold every comment (TOXICITY >= 0), so the queue's content does not depend on the model.
HOLD_ALL = Policy.from_dict(
    {
        "name": "hold-all",
        "thresholds": {"TOXICITY": {"hold": 0.0}, "INSULT": {"hold": 0.5}, "THREAT": {"hold": 0.5}},
    }
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CIVILITY_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    store = Store.open(f"sqlite:///{tmp_path / 'civility.db'}")
    thread = make_thread(8, title="Council approves the new <budget> & schools plan")
    import_thread(store, thread, site="news", key="budget", scorer=FakeScorer(), policy=HOLD_ALL)
    create_user(store, "ada", "ada-password", "admin")
    create_user(store, "mo", "mo-password", "moderator")
    with serve(store) as base:
        yield store, base
    store.close()


def _login(page: object, base: str, name: str, password: str) -> None:
    page.goto(base + "/queue")  # type: ignore[attr-defined]
    page.fill("input[name=username]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button:has-text('Log in')")  # type: ignore[attr-defined]


def test_moderator_works_the_queue_by_keyboard_and_sees_the_audit_log(
    site: tuple[Store, str], browser: object, artifacts: Path
) -> None:
    store, base = site
    page = browser.new_page(viewport={"width": 1100, "height": 1400})  # type: ignore[attr-defined]
    _login(page, base, "mo", "mo-password")
    page.wait_for_url(base + "/queue")
    items = page.locator(".items .item")
    assert items.count() == 8
    scores = [float(s) for s in page.locator(".item .score").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    assert page.locator(".item mark").count() > 0
    page.screenshot(path=str(artifacts / "queue.png"), full_page=True)

    first_id = items.nth(0).get_attribute("data-id")
    second_id = items.nth(1).get_attribute("data-id")
    third_id = items.nth(2).get_attribute("data-id")
    assert page.locator(".item.current").get_attribute("data-id") == first_id
    page.keyboard.press("r")  # reject the worst
    page.wait_for_selector(f"#comment-{first_id}.status-rejected")
    # After acting, the selection moved on to the next item.
    page.wait_for_selector(f"#comment-{second_id}.current")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("a")  # approve the second
    page.wait_for_selector(f"#comment-{second_id}.status-approved")
    page.wait_for_selector(f"#comment-{third_id}.current")
    page.keyboard.press("h")
    page.wait_for_selector(f"#comment-{third_id}.decided")

    held, total = queue(store, QueueFilters())
    assert total == 6 and {str(i.id) for i in held}.isdisjoint({first_id, second_id})

    page.goto(base + "/audit")
    rows = page.locator("tr.audit-decision")
    assert rows.count() == 3
    text = rows.all_inner_texts()
    assert all("mo" in t for t in text)
    assert any(f"comment:{first_id}" in t and "action=reject" in t for t in text)
    assert any(f"comment:{second_id}" in t and "action=approve" in t for t in text)

    thread_link = base + f"/threads/{held[0].thread_id}"
    page.goto(thread_link)
    assert page.locator("h1").inner_text() == "Council approves the new <budget> & schools plan"
    assert page.locator(f"#comment-{first_id} .decided-by").inner_text().startswith("by mo at")
    page.screenshot(path=str(artifacts / "thread.png"), full_page=True)

    for path in ("/admin/users", "/admin/policy"):
        response = page.goto(base + path)
        assert response.status == 403
        assert "admins only" in page.inner_text("main")


def test_admin_creates_a_moderator_and_previews_a_policy(
    site: tuple[Store, str], browser: object, artifacts: Path
) -> None:
    _store, base = site
    page = browser.new_page(viewport={"width": 1100, "height": 1200})  # type: ignore[attr-defined]
    _login(page, base, "ada", "ada-password")
    page.wait_for_url(base + "/queue")
    page.goto(base + "/admin/users")
    page.fill(".create-user input[name=name]", "newbie")
    page.fill(".create-user input[name=password]", "newbie-password")
    page.click(".create-user button")
    assert "Created moderator newbie." in page.inner_text(".message")
    assert page.locator("tr", has_text="newbie").count() == 1
    page.screenshot(path=str(artifacts / "users.png"), full_page=True)

    page.goto(base + "/admin/policy?site=news")
    page.fill("input[name='TOXICITY.hold']", "0.99")  # above its reject threshold
    page.click("button[value=preview]")
    page.wait_for_selector("#preview .error-text")
    assert "'hold' must not exceed 'reject'" in page.inner_text("#preview")
    page.fill("input[name='TOXICITY.hold']", "0.01")
    page.click("button[value=preview]")
    page.wait_for_selector("#preview .preview")
    summary = page.inner_text("#preview")
    assert re.search(r"Preview on the last 8 comments", summary)
    page.screenshot(path=str(artifacts / "policy.png"), full_page=True)
    page.click("button[value=save]")
    page.wait_for_selector("p.message:has-text('Saved.')")
    assert page.input_value("input[name='TOXICITY.hold']") == "0.01"
    page.goto(base + "/audit")
    assert page.locator("tr.audit-policy-update").count() == 1
