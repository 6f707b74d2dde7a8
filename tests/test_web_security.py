"""The UI's guards over real HTTP: log-in, CSRF, roles, throttling, cookies, escaping,
redirects; and that every decision leaves an audit entry and calibration feedback."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
import store_fixtures
from fake_scorer import FakeScorer
from store_fixtures import make_thread
from web_fixtures import serve

from civility.policy import Policy
from civility.store import QueueFilters, Store, create_user, import_thread, queue
from civility.store._models import CalibrationFeedback
from civility.thread import Comment, Thread

db_url = store_fixtures.db_url
store = store_fixtures.store
SCORER = FakeScorer()
HOLD_ALL = Policy.from_dict({"name": "hold-all", "thresholds": {"TOXICITY": {"hold": 0.0}}})
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def base(store: Store) -> Iterator[str]:
    import_thread(store, make_thread(6), site="news", key="a", scorer=SCORER, policy=HOLD_ALL)
    create_user(store, "ada", "ada-password", "admin")
    create_user(store, "mo", "mo-password", "moderator")
    with serve(store) as url:
        yield url


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, follow_redirects=False, timeout=20)


def _csrf(client: httpx.Client, path: str = "/login") -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def _login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    token = _csrf(client)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token})


def test_pages_need_a_login_and_redirect_back_after_it(base: str) -> None:
    with _client(base) as c:
        r = c.get("/queue?status=all")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=/queue%3Fstatus%3Dall"
        token = _csrf(c, "/login?next=/queue%3Fstatus%3Dall")
        r = c.post(
            "/login?next=/queue%3Fstatus%3Dall",
            data={"username": "mo", "password": "mo-password", "csrf_token": token},
        )
        assert (r.status_code, r.headers["location"]) == (303, "/queue?status=all")


def test_session_cookie_is_httponly_and_samesite_lax(base: str) -> None:
    with _client(base) as c:
        cookie = _login(c, "mo", "mo-password").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_login_never_redirects_off_site(base: str) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil"):
        with _client(base) as c:
            token = _csrf(c)
            r = c.post(
                "/login",
                params={"next": target},
                data={"username": "mo", "password": "mo-password", "csrf_token": token},
            )
            assert r.headers["location"] == "/queue", target
            # Logged in already: the log-in page sends a visitor on, but never off-site.
            assert c.get("/login", params={"next": target}).headers["location"] == "/queue"


def test_wrong_password_is_refused_and_five_failures_give_429(base: str) -> None:
    with _client(base) as c:
        for _ in range(5):
            r = _login(c, "mo", "wrong-password")
            assert r.status_code == 403
            assert "Wrong user name or password." in r.text
        r = _login(c, "mo", "mo-password")  # even the right password, for now
        assert r.status_code == 429
        assert "Too many failed logins. Try again in 15 minutes." in r.text


def test_forms_without_the_csrf_token_are_refused(base: str, store: Store) -> None:
    items, _ = queue(store, QueueFilters())
    with _client(base) as c:
        _login(c, "mo", "mo-password")
        r = c.post(f"/comments/{items[0].id}/decide", data={"action": "reject"})
        assert r.status_code == 403
        assert "did not come from this site" in r.text
        r = c.post(
            f"/comments/{items[0].id}/decide", data={"action": "reject", "csrf_token": "forged"}
        )
        assert r.status_code == 403
        assert queue(store, QueueFilters())[1] == len(items)
        token = _csrf(c, "/queue")
        r = c.post(
            f"/comments/{items[0].id}/decide",
            data={"action": "reject"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert r.status_code == 200
        assert "status-rejected" in r.text
    assert queue(store, QueueFilters())[1] == len(items) - 1


def test_a_moderator_cannot_manage_users_or_policies(base: str, store: Store) -> None:
    with _client(base) as c:
        _login(c, "mo", "mo-password")
        token = _csrf(c, "/queue")
        for path in ("/admin/users", "/admin/policy"):
            assert c.get(path).status_code == 403
        r = c.post(
            "/admin/users",
            data={
                "op": "create",
                "name": "sneaky",
                "password": "x" * 12,
                "role": "admin",
                "csrf_token": token,
            },
        )
        assert r.status_code == 403
    with _client(base) as c:
        _login(c, "ada", "ada-password")
        assert "sneaky" not in c.get("/admin/users").text


def test_a_deactivated_user_is_logged_out(base: str, store: Store) -> None:
    with _client(base) as mo, _client(base) as ada:
        _login(mo, "mo", "mo-password")
        assert mo.get("/queue").status_code == 200
        _login(ada, "ada", "ada-password")
        page = ada.get("/admin/users").text
        mo_id = re.search(
            r'name="id" value="(\d+)"></form></td>\s*<td><select name="role" '
            r'form="user-form-\d+"><option>admin</option><option selected>',
            page,
        )
        assert mo_id is not None
        r = ada.post(
            "/admin/users",
            data={
                "op": "update",
                "id": mo_id.group(1),
                "role": "moderator",
                "csrf_token": _csrf(ada, "/queue"),
            },
        )
        assert r.status_code == 200 and "Saved mo." in r.text
        assert mo.get("/queue").status_code == 303


def test_comment_markup_is_shown_as_text(store: Store) -> None:
    evil = Comment(
        id="x1",
        author="<img src=x onerror=alert(1)>",
        text="<script>alert('idiot')</script> you idiot",
    )
    import_thread(store, Thread(None, (evil,)), site="s", key="k", scorer=SCORER, policy=HOLD_ALL)
    create_user(store, "mo", "mo-password", "moderator")
    with serve(store) as url, _client(url) as c:
        _login(c, "mo", "mo-password")
        html = c.get("/queue").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_decisions_feed_calibration_and_the_overturn_page(base: str, store: Store) -> None:
    items, _ = queue(store, QueueFilters())
    with _client(base) as c:
        _login(c, "mo", "mo-password")
        token = _csrf(c, "/queue")
        c.post(f"/comments/{items[0].id}/decide", data={"action": "approve", "csrf_token": token})
        c.post(f"/comments/{items[1].id}/decide", data={"action": "reject", "csrf_token": token})
        c.post(f"/comments/{items[2].id}/decide", data={"action": "hold", "csrf_token": token})
        page = c.get("/feedback").text
    with store.session() as s:
        rows = s.execute(
            sa.select(
                CalibrationFeedback.comment_id,
                CalibrationFeedback.attribute,
                CalibrationFeedback.verdict,
                CalibrationFeedback.policy_flagged,
            )
        ).all()
    assert {r.comment_id for r in rows} == {items[0].id, items[1].id}  # hold is no verdict
    assert {r.verdict for r in rows if r.comment_id == items[0].id} == {0}
    assert {r.verdict for r in rows if r.comment_id == items[1].id} == {1}
    assert all(r.policy_flagged == (r.attribute == "TOXICITY") for r in rows)
    # TOXICITY: two verdicts on flagged comments, one approved anyway.
    assert re.search(r"<td>TOXICITY</td><td>2</td><td>1</td><td>50%</td>", page)
