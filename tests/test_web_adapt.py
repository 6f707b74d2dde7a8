"""Site adapters in the moderator UI, with the real model: who may see and use /adapters and
/teach (fast, over real HTTP), and the whole path in headless Chromium (slow): a generated
thread imported into a site, moderators' decisions in the queue and the teach view, the adapter
retrained in the background after them, the site's scores changed, and a rollback in the
browser that puts the previous version back.

The site, "harbour", is a football club's comment section whose moderators disagree with the
base model both ways: they reject crypto spam (which the base scores low) and approve the
terraces' banter (mild swearing the base scores high), besides rejecting insults and approving
plain civil comments. That is what an adapter should learn, and the base cannot rank."""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import store_fixtures
from conftest import CHROMIUM
from web_fixtures import serve

from civility.errors import InvalidInput
from civility.policy import Policy
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import (
    Account,
    QueueFilters,
    Store,
    adapters,
    audit_log,
    create_user,
    decide,
    import_thread,
    queue,
    site_examples,
    site_scorer,
)
from civility.thread import Article, Comment, Thread

db_url = store_fixtures.db_url
store = store_fixtures.store
SITE = "harbour"
# Hold every comment, so that every comment is in the queue and each decision a label.
HOLD_ALL = Policy.from_dict({"name": "hold-all", "thresholds": {"TOXICITY": {"hold": 0.0}}})
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SPAM_PROBE = "Grab dogecoin today at moonprofit dot io, guaranteed gains for every reader"
BANTER_PROBE = "Bloody hell, what a damn fine header by the captain, proud of the lads"

_COINS = ("bitcoin", "ethereum", "dogecoin", "solana", "crypto tokens", "litecoin")
_SITES = ("cryptowin dot net", "coinrich dot io", "fastgains dot biz", "tokenboom dot com")
_PROMISES = (
    "huge gains guaranteed",
    "double your money in a week",
    "earn 500 dollars a day from home",
    "free bonus for new members",
    "no risk at all",
)
_PLAYERS = ("Smith", "the keeper", "our striker", "the captain", "young Okafor", "the new lad")
_BANTER = (
    "Bloody brilliant match, what a damn good goal by {p}!",
    "Holy shit, that was a hell of a performance by {p}",
    "Damn, one hell of a comeback, {p} was a beast tonight",
    "What the hell was the ref thinking, still {p} won it for us",
    "Crap weather but a damn fine game from {p}",
)
_INSULTS = (
    "You are a stupid idiot, {p} fan",
    "Shut up you pathetic loser, nobody cares what you think about {p}",
    "Only a moron would defend {p}, you clueless fool",
    "You are a worthless idiot and so is {p}",
)
_CIVIL = (
    "Thanks for the match report, {p} deserved the praise.",
    "I think {p} should start on Saturday, the midfield needs him.",
    "Good point about the ticket prices, {p} would agree.",
    "The new stand looks great, hope {p} enjoys the atmosphere.",
    "Interesting analysis of the formation and of {p}'s role.",
)


@dataclass(frozen=True)
class Generated:
    thread: Thread
    reject: dict[str, bool]  # text -> whether this site's moderators reject it


def generated_thread(n: int, seed: int = 7) -> Generated:
    """``n`` comments, a quarter of each kind, with texts unique within the thread."""
    rng = random.Random(seed)
    comments: list[Comment] = []
    reject: dict[str, bool] = {}
    i = 0
    while len(comments) < n:
        kind = i % 4
        p = rng.choice(_PLAYERS)
        if kind == 0:
            text = (
                f"{rng.choice(('Buy', 'Grab', 'Get'))} {rng.choice(_COINS)} now at "
                f"{rng.choice(_SITES)}, {rng.choice(_PROMISES)}"
            )
        elif kind == 1:
            text = rng.choice(_BANTER).format(p=p)
        elif kind == 2:
            text = rng.choice(_INSULTS).format(p=p)
        else:
            text = rng.choice(_CIVIL).format(p=p)
        text = f"{text} (#{i})"  # unique: one comment, one example
        reject[text] = kind in (0, 2)
        comments.append(
            Comment(id=f"h{i}", author=f"fan{i % 23}", text=text, created_at="2026-11-20")
        )
        i += 1
    article = Article("Harbour FC 3-2 Rovers: a comeback for the ages", ("Match report.",))
    return Generated(Thread(article, tuple(comments)), reject)


def _import(store: Store, scorer: Scorer, n: int) -> Generated:
    gen = generated_thread(n)
    import_thread(store, gen.thread, site=SITE, key="match", scorer=scorer, policy=HOLD_ALL)
    return gen


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, follow_redirects=False, timeout=60)


def _login(client: httpx.Client, name: str) -> str:
    """Log in as ``name`` (password NAME-password); returns the session's CSRF token."""
    token = CSRF_RE.search(client.get("/login").text)
    assert token is not None
    r = client.post(
        "/login",
        data={"username": name, "password": f"{name}-password", "csrf_token": token.group(1)},
    )
    assert r.status_code == 303
    found = CSRF_RE.search(client.get("/feedback").text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def small_site(store: Store, real_scorer: Scorer) -> Iterator[tuple[Store, str]]:
    """40 comments of the site, an admin and a moderator; on SQLite and on PostgreSQL."""
    _import(store, real_scorer, 40)
    create_user(store, "ada", "ada-password", "admin")
    create_user(store, "mo", "mo-password", "moderator")
    with serve(store, scorer=real_scorer) as base:
        yield store, base


def test_the_teach_view_draws_its_fair_share_at_random(real_scorer: Scorer) -> None:
    """Of the comments shown, ``fair_share`` are drawn uniformly (not picked: their labels are
    a fair sample the activation check rests on), the rest are the top priorities among the
    others; all candidates shown means none was picked."""
    from civility.web._adapters import Candidate, teach_order, teach_view

    texts = [t.format(p=p) for t in _CIVIL for p in _PLAYERS]
    candidates = list(enumerate([*texts, "you people are vermin", "buy crypto now"]))
    assert len(candidates) >= 30
    ranked = teach_order(real_scorer, None, candidates, "TOXICITY")
    top = [c.id for c in ranked[:10]]

    def view(
        share: float, seed: int = 0, among: list[tuple[int, str]] = candidates
    ) -> list[Candidate]:
        return teach_view(
            real_scorer,
            None,
            among,
            "TOXICITY",
            shown=10,
            fair_share=share,
            rng=random.Random(seed),
        )

    shown = view(0.5, seed=3)
    assert len(shown) == 10 and len({c.id for c in shown}) == 10
    picked = [c for c in shown if c.picked]
    fair = [c for c in shown if not c.picked]
    assert len(picked) == 5 and len(fair) == 5
    assert [c.priority for c in shown] == sorted((c.priority for c in shown), reverse=True)
    # The picks: the highest priorities among the comments not drawn.
    rest = [c for c in ranked if c.id not in {f.id for f in fair}]
    assert [c.id for c in picked] == [c.id for c in rest[:5]]
    # Another draw, other fair comments; the share's extremes.
    assert {c.id for c in view(0.5, seed=4) if not c.picked} != {c.id for c in fair}
    only_picks = view(0.0)
    assert [c.id for c in only_picks] == top and all(c.picked for c in only_picks)
    drawn = view(1.0)
    assert len(drawn) == 10 and not any(c.picked for c in drawn)
    everything = view(0.0, among=candidates[:8])
    assert len(everything) == 8 and not any(c.picked for c in everything)
    with pytest.raises(InvalidInput, match="teach_fair_share"):
        Settings.from_sources(overrides={"teach_fair_share": 1.5})


def test_adapters_is_for_admins_and_teach_for_moderators(
    small_site: tuple[Store, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, base = small_site
    # 20 of the 40 undecided comments shown: 10 drawn at random, 10 picked by priority.
    monkeypatch.setattr("civility.web._app.TEACH_SHOWN", 20)
    with _client(base) as anonymous:
        for path in ("/adapters", f"/teach?site={SITE}"):
            r = anonymous.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        assert anonymous.post("/adapters", data={"op": "retrain", "site": SITE}).status_code == 303

    with _client(base) as mo:
        token = _login(mo, "mo")
        assert 'href="/teach"' in mo.get("/queue").text
        assert 'href="/adapters"' not in mo.get("/queue").text
        r = mo.get("/adapters")
        assert r.status_code == 403 and "admins only" in r.text
        for op in ({"op": "rollback", "version": "1"}, {"op": "retrain"}):
            r = mo.post("/adapters", data={"csrf_token": token, "site": SITE, **op})
            assert r.status_code == 403 and "admins only" in r.text
        assert adapters(store, SITE) == []

        r = mo.get(f"/teach?site={SITE}")
        assert r.status_code == 200
        priorities = [float(p) for p in re.findall(r'data-priority="([0-9.]+)"', r.text)]
        assert len(priorities) == 20
        assert priorities == sorted(priorities, reverse=True)
        assert "harbour · base model" in r.text
        assert "<mark" in r.text  # the stored spans are highlighted, as in the queue
        # The forms of the comments picked by priority say so (no fair sample of the site);
        # those drawn at random do not.
        assert r.text.count('name="picked" value="teach"') == 10
        assert "50% of them are drawn at random" in r.text
        # Reloading does not draw again.
        again = mo.get(f"/teach?site={SITE}").text
        assert re.findall(r'data-id="(\d+)"', again) == re.findall(r'data-id="(\d+)"', r.text)
        # A decided comment leaves the view.
        first = re.search(r'data-id="(\d+)"', r.text)
        assert first is not None
        r = mo.post(
            f"/comments/{first.group(1)}/decide",
            data={"csrf_token": token, "action": "approve", "next": "/teach", "picked": "teach"},
        )
        assert (r.status_code, r.headers["location"]) == (303, "/teach")
        r = mo.get(f"/teach?site={SITE}")
        assert len(re.findall(r"data-priority=", r.text)) == 20
        assert f'id="comment-{first.group(1)}"' not in r.text
        # Its label is fitted on but kept out of the activation check; a queue decision's is not.
        assert [e.fair for e in site_examples(store, SITE)["TOXICITY"]] == [False]
        assert 'name="picked"' not in mo.get("/queue").text
        second = re.search(r'data-id="(\d+)"', r.text)
        assert second is not None
        mo.post(
            f"/comments/{second.group(1)}/decide",
            data={"csrf_token": token, "action": "reject", "next": "/queue"},
        )
        assert sorted(e.fair for e in site_examples(store, SITE)["TOXICITY"]) == [False, True]
        for bad, message in (
            ("/teach?site=nowhere", "No site called &#39;nowhere&#39;."),
            (f"/teach?site={SITE}&attribute=NOPE", "NOPE"),
        ):
            r = mo.get(bad)
            assert r.status_code in (400, 404) and message in r.text
            assert "Traceback" not in r.text

    with _client(base) as ada:
        token = _login(ada, "ada")
        assert 'href="/adapters"' in ada.get("/queue").text
        r = ada.get("/adapters")
        assert r.status_code == 200
        assert f'data-site="{SITE}"' in r.text and "base model" in r.text
        # Errors are one line on the page.
        r = ada.post(
            "/adapters", data={"csrf_token": token, "site": SITE, "op": "rollback", "version": "7"}
        )
        assert r.status_code in (400, 404)
        error = re.search(r'<p class="message error-text" role="alert">([^<]*)</p>', r.text)
        assert error is not None and "7" in error.group(1) and "\n" not in error.group(1)
        r = ada.post("/adapters", data={"csrf_token": token, "site": "", "op": "retrain"})
        assert r.status_code == 400 and "Say which site." in r.text
        # Two labels (mo's approval and rejection) are too few to fit anything: a version that does not serve,
        # and the page says why; it offers no rollback to it.
        r = ada.post("/adapters", data={"csrf_token": token, "site": SITE, "op": "retrain"})
        assert r.status_code == 303 and "done=retrained" in r.headers["location"]
        r = ada.get(r.headers["location"])
        assert f"Retrained {SITE}: version 1 does not serve" in r.text
        assert "too few labels" in r.text and "serving: <strong>base model</strong>" in r.text
        assert 'name="version" value="1"' not in r.text
        (v1,) = adapters(store, SITE)
        assert (v1.serving, v1.created_by, v1.labels) == (False, "ada", 2)
        # Without the session's CSRF token an admin is refused too.
        r = ada.post("/adapters", data={"csrf_token": "forged", "site": SITE, "op": "retrain"})
        assert r.status_code == 403 and "did not come from this site" in r.text


# ---------------------------------------------------------------------------- end to end

E2E_COMMENTS = 480
FIRST_BATCH = 160  # decided through store.decide before the browser's first key presses
SECOND_BATCH = 160


def _wait_for_version(store: Store, version: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(i.version >= version for i in adapters(store, SITE)):
            return
        time.sleep(0.25)
    raise AssertionError(f"no adapter version {version} after {timeout} s: {adapters(store, SITE)}")


def _toxicity(scorer: Scorer, text: str) -> float:
    return scorer.score([text], attributes=["TOXICITY"], scale="balanced")[0]["TOXICITY"]


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_decisions_in_the_browser_retrain_the_site_and_an_admin_rolls_back(
    tmp_path: Path, real_scorer: Scorer, browser: object
) -> None:
    artifacts = Path(os.environ.get("CIVILITY_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{tmp_path / 'civility.db'}")
    started = time.monotonic()
    gen = _import(store, real_scorer, E2E_COMMENTS)
    imported_s = time.monotonic() - started
    admin = create_user(store, "ada", "ada-password", "admin")
    moderators: list[Account] = [
        create_user(store, "mo", "mo-password", "moderator"),
        create_user(store, "mia", "mia-password", "moderator"),
    ]
    assert admin.is_admin
    all_items, total = queue(store, QueueFilters(status="all"), limit=E2E_COMMENTS)
    assert total == E2E_COMMENTS
    rejects = {it.id: gen.reject[it.text] for it in all_items}
    order = sorted(rejects)  # the comments in the order they were posted

    def decide_directly(ids: list[int]) -> None:
        for k, cid in enumerate(ids):
            decide(store, cid, "reject" if rejects[cid] else "approve", moderators[k % 2])

    base_spam, base_banter = (
        _toxicity(real_scorer, SPAM_PROBE),
        _toxicity(real_scorer, BANTER_PROBE),
    )
    assert site_scorer(store, real_scorer, SITE) is real_scorer  # no adapter yet: the base

    with serve(store, scorer=real_scorer) as base:
        # Most of the decisions go straight to the store (quick); the last ones are key
        # presses in the queue, whose decide POSTs start the background retraining.
        decide_directly(order[:FIRST_BATCH])
        page = browser.new_page(viewport={"width": 1100, "height": 1300})  # type: ignore[attr-defined]
        page.goto(base + "/queue")
        page.fill("input[name=username]", "mia")
        page.fill("input[name=password]", "mia-password")
        page.click("button:has-text('Log in')")
        page.wait_for_url(base + "/queue")
        pressed = time.monotonic()
        for _ in range(4):
            current = page.locator(".item.current")
            cid = int(current.get_attribute("data-id") or "0")
            page.keyboard.press("r" if rejects[cid] else "a")
            page.wait_for_selector(f"#comment-{cid}.decided")
        keys_s = time.monotonic() - pressed
        _wait_for_version(store, 1)
        trained_s = time.monotonic() - pressed
        (v1,) = adapters(store, SITE)
        assert v1.serving and v1.report["TOXICITY"]["active"], v1.report
        adapted = site_scorer(store, real_scorer, SITE)
        assert getattr(adapted, "adapter", None) == f"{SITE}/v1"
        v1_spam, v1_banter = _toxicity(adapted, SPAM_PROBE), _toxicity(adapted, BANTER_PROBE)
        # The site's notion, learnt: its spam scores higher than the base says, its banter lower
        # (by at most the guard's margin, 0.05, where the base finds the text severe).
        assert v1_spam > base_spam + 0.2 and v1_banter < base_banter - 0.01

        # More decisions, the last ones in the teach view: a second version.
        decide_directly(order[FIRST_BATCH + 10 : FIRST_BATCH + 10 + SECOND_BATCH])
        page.goto(base + f"/teach?site={SITE}")
        assert page.locator("h1 small").inner_text() == f"{SITE} · {SITE}/v1"
        page.screenshot(path=str(artifacts / "teach.png"))
        for _ in range(3):
            current = page.locator(".items .item.current")
            cid = int(current.get_attribute("data-id") or "0")
            page.keyboard.press("r" if rejects[cid] else "a")
            page.wait_for_selector(f"#comment-{cid}.decided")
        _wait_for_version(store, 2)
        v2 = max(adapters(store, SITE), key=lambda i: i.version)
        assert v2.version == 2 and v2.serving and v2.labels > v1.labels
        adapted = site_scorer(store, real_scorer, SITE)
        assert getattr(adapted, "adapter", None) == f"{SITE}/v2"
        v2_spam = _toxicity(adapted, SPAM_PROBE)
        assert v2_spam != pytest.approx(v1_spam, abs=1e-6)

        # The admin sees both versions and rolls back to the first in the browser.
        page.click("button:has-text('Log out')")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", "ada-password")
        page.click("button:has-text('Log in')")
        page.wait_for_url(base + "/queue")
        page.goto(base + "/adapters")
        section = page.locator(f".site-adapters[data-site='{SITE}']")
        assert "version 2" in section.locator(".serving-now").inner_text()
        tox = section.locator("tr.attribute[data-attribute='TOXICITY']").inner_text()
        assert "active" in tox
        assert section.locator("tr.version").count() == 2
        page.screenshot(path=str(artifacts / "adapters.png"), full_page=True)
        section.locator("tr.version[data-version='1'] button").click()
        page.wait_for_selector("p.message:has-text('Version 1 of harbour serves again.')")
        assert (
            "version 1"
            in page.locator(f".site-adapters[data-site='{SITE}'] .serving-now").inner_text()
        )

    adapted = site_scorer(store, real_scorer, SITE)
    assert getattr(adapted, "adapter", None) == f"{SITE}/v1"
    assert _toxicity(adapted, SPAM_PROBE) == pytest.approx(v1_spam, abs=1e-9)
    entries = [e for e in audit_log(store) if "rollback" in e.action]
    assert len(entries) == 1 and entries[0].username == "ada"
    print(
        f"\nimport {E2E_COMMENTS} comments {imported_s:.1f} s; 4 key presses {keys_s:.1f} s; "
        f"v1 serving {trained_s:.1f} s after the first; TOXICITY held-out AUC base "
        f"{v1.report['TOXICITY']['auc_base']} -> adapted {v1.report['TOXICITY']['auc_adapted']} "
        f"({v1.labels} labels); spam probe {base_spam:.3f} -> v1 {v1_spam:.3f} -> v2 {v2_spam:.3f}; "
        f"banter probe {base_banter:.3f} -> v1 {v1_banter:.3f}"
    )
    store.close()
