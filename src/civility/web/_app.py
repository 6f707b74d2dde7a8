"""The moderator UI: server-rendered pages, a little htmx, every form CSRF-protected, every
route behind a role. ``create_app`` returns an ASGI app the API server mounts at ``/``."""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from civility import attributes
from civility.errors import CivilityError, InvalidInput, PermissionDenied
from civility.highlight import segments
from civility.policy import Policy
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import (
    ACTIONS,
    ROLES,
    Account,
    AdapterInfo,
    Item,
    QueueFilters,
    Retrainer,
    Store,
    adapters,
    audit_log,
    authenticate,
    create_user,
    decide,
    get_site,
    get_user,
    items,
    list_users,
    missed,
    overturns,
    preview_policy,
    queue,
    rollback,
    set_site_policy,
    sites,
    teach_candidates,
    thread,
    threads,
    update_user,
)
from civility.web._adapters import (
    Candidate,
    LazyScorer,
    serving_adapter,
    teach_view,
)
from civility.web._attachments import attachments, summary

SESSION_COOKIE = "civility_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
STATUSES = ("held", "rejected", "approved", "all")
# The teach view scores at most this many of a site's undecided comments (the most recent),
# in one batch, and shows TEACH_SHOWN of them (``teach_fair_share`` drawn at random).
TEACH_CANDIDATES = 2000
TEACH_SHOWN = 50

Handler = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("civility.web")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _environment() -> Environment:
    folder = str(resources.files("civility.web") / "templates")
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(["html"]))
    env.globals.update(
        segments=segments,
        attachments=attachments,
        attachment_summary=summary,
        ACTIONS=ACTIONS,
        ATTRIBUTES=attributes.NAMES,
    )
    env.filters["when"] = _when
    return env


class _UI:
    """The routes, sharing one store and one template environment."""

    def __init__(self, settings: Settings, store: Store, scorer: Scorer | None = None) -> None:
        self.settings = settings
        self.store = store
        self.templates = _environment()
        self.scorer = LazyScorer(settings, scorer)
        self.retrainer = Retrainer(store, self.scorer, settings)

    # ------------------------------------------------------------------ plumbing

    def render(
        self, request: Request, name: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        context.setdefault("user", request.scope.get("civility_user"))
        html = self.templates.get_template(name).render(
            request=request, csrf=_csrf_token(request), **context
        )
        return HTMLResponse(html, status_code=status)

    def page(
        self, *, role: str = "moderator"
    ) -> Callable[[Callable[[Request, Account], Awaitable[Response]]], Handler]:
        """Wrap a handler: log-in check, role check, CSRF check on POST, errors as pages."""

        def wrap(handler: Callable[[Request, Account], Awaitable[Response]]) -> Handler:
            async def endpoint(request: Request) -> Response:
                user = self.current_user(request)
                if user is None:
                    target = quote(
                        request.url.path + ("?" + request.url.query if request.url.query else "")
                    )
                    if request.headers.get("hx-request"):
                        return Response(status_code=401, headers={"HX-Redirect": "/login"})
                    return RedirectResponse(f"/login?next={target}", status_code=303)
                request.scope["civility_user"] = user
                try:
                    if role == "admin" and not user.is_admin:
                        raise PermissionDenied("This page is for admins only.")
                    if request.method == "POST":
                        await self.check_csrf(request)
                    return await handler(request, user)
                except CivilityError as exc:
                    return self.error(request, exc)

            return endpoint

        return wrap

    def current_user(self, request: Request) -> Account | None:
        uid = request.session.get("uid")
        if not isinstance(uid, int):
            return None
        account = get_user(self.store, uid)
        if account is None or request.session.get("role") != account.role:
            # Deactivated or re-roled since logging in: start over.
            request.session.clear()
            return None
        return account

    async def check_csrf(self, request: Request) -> FormData:
        form = await request.form()
        sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        expected = request.session.get("csrf")
        if not (
            isinstance(sent, str)
            and isinstance(expected, str)
            and secrets.compare_digest(sent, expected)
        ):
            raise PermissionDenied(
                "The form has expired or did not come from this site. "
                "Reload the page and try again."
            )
        return form

    def error(self, request: Request, exc: CivilityError) -> HTMLResponse:
        if request.headers.get("hx-request"):
            return self.render(request, "_error.html", status=exc.status, message=exc.message)
        return self.render(
            request, "error.html", status=exc.status, message=exc.message, status_code=exc.status
        )

    # ------------------------------------------------------------------ log in / out

    async def login(self, request: Request) -> Response:
        next_url = _safe_next(request.query_params.get("next"))
        if request.method == "GET":
            if self.current_user(request) is not None:
                return RedirectResponse(next_url, status_code=303)
            return self.render(request, "login.html", next=next_url, message=None, user=None)
        try:
            form = await self.check_csrf(request)
            name = str(form.get("username", "")).strip()
            password = str(form.get("password", ""))
            ip = request.client.host if request.client else "unknown"
            account = authenticate(self.store, name, password, ip)
        except CivilityError as exc:
            return self.render(
                request,
                "login.html",
                status=exc.status,
                next=next_url,
                message=exc.message,
                user=None,
            )
        request.session.clear()
        request.session.update(uid=account.id, role=account.role, csrf=secrets.token_urlsafe(32))
        return RedirectResponse(next_url, status_code=303)

    async def logout(self, request: Request) -> Response:
        try:
            await self.check_csrf(request)
        except CivilityError as exc:
            return self.error(request, exc)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ pages

    async def home(self, request: Request, user: Account) -> Response:
        return RedirectResponse("/queue", status_code=303)

    async def queue_page(self, request: Request, user: Account) -> Response:
        q = request.query_params
        status = q.get("status") or "held"
        if status not in STATUSES:
            raise InvalidInput(f"Status must be one of {', '.join(STATUSES)}. Got {status!r}.")
        attribute = q.get("attribute") or None
        if attribute is not None:
            attribute = attributes.get(attribute).name
        thread_id = _int(q.get("thread"), "thread")
        filters = QueueFilters(
            attribute=attribute,
            thread_id=thread_id,
            author=q.get("author") or None,
            day=q.get("day") or None,
            status=status,
        )
        items, total = queue(self.store, filters)
        return self.render(
            request,
            "queue.html",
            groups=_by_thread(items),
            total=total,
            filters=filters,
            threads=threads(self.store),
            statuses=STATUSES,
        )

    async def decide_action(self, request: Request, user: Account) -> Response:
        form = await request.form()
        comment_id = _int(request.path_params["comment_id"], "comment")
        assert comment_id is not None
        # A comment the teach view picked by its priority is no fair sample of the site: its
        # label is fitted on but left out of the adapter's activation check.
        fair = form.get("picked") != "teach"
        decided = decide(self.store, comment_id, str(form.get("action", "")), user, fair=fair)
        back = _safe_next(str(form.get("next") or "/queue"))
        response: Response
        if request.headers.get("hx-request"):
            response = self.render(
                request, "_item.html", item=decided, just_decided=True, back=back
            )
        else:
            response = RedirectResponse(back, status_code=303)
        # The decision is a label for the site's adapter: after the answer has gone, see (in a
        # thread of its own) whether enough new labels arrived to retrain.
        response.background = BackgroundTask(self.retrainer.request, decided.site)
        return response

    async def thread_page(self, request: Request, user: Account) -> Response:
        thread_id = _int(request.path_params["thread_id"], "thread")
        assert thread_id is not None
        return self.render(request, "thread.html", thread=thread(self.store, thread_id))

    async def audit_page(self, request: Request, user: Account) -> Response:
        return self.render(request, "audit.html", entries=audit_log(self.store))

    async def feedback_page(self, request: Request, user: Account) -> Response:
        site = request.query_params.get("site") or None
        return self.render(
            request,
            "feedback.html",
            rows=overturns(self.store, site=site),
            missed=missed(self.store, site=site),
            sites=sites(self.store),
            site=site,
        )

    async def users_page(self, request: Request, user: Account) -> Response:
        message = None
        if request.method == "POST":
            form = await request.form()
            if form.get("op") == "create":
                created = create_user(
                    self.store,
                    str(form.get("name", "")),
                    str(form.get("password", "")),
                    str(form.get("role", "moderator")),
                    by=user,
                )
                message = f"Created {created.role} {created.name}."
            else:
                target = _int(str(form.get("id", "")), "user")
                assert target is not None
                changed = update_user(
                    self.store,
                    target,
                    by=user,
                    role=str(form.get("role") or "") or None,
                    active=form.get("active") == "on",
                    password=str(form.get("password") or "") or None,
                )
                message = f"Saved {changed.name}."
        return self.render(
            request, "users.html", users=list_users(self.store), roles=ROLES, message=message
        )

    async def policy_page(self, request: Request, user: Account) -> Response:
        all_sites = sites(self.store)
        if not all_sites:
            return self.render(
                request,
                "policy.html",
                sites=[],
                site=None,
                policy=None,
                preview=None,
                message=None,
                last=200,
            )
        name = request.query_params.get("site") or all_sites[0].name
        message = "Saved." if request.query_params.get("saved") else None
        preview = None
        last = 200
        if request.method == "POST":
            form = await request.form()
            name = str(form.get("site", name))
            last = _int(str(form.get("last") or "200"), "last") or 200
            candidate = _policy_from_form(form, name)
            if form.get("op") == "save":
                set_site_policy(self.store, name, _to_toml(candidate), user)
                target = f"/admin/policy?site={quote(name)}&saved=1"
                if request.headers.get("hx-request"):
                    return Response("", headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            preview = preview_policy(self.store, name, candidate, last=last)
            if request.headers.get("hx-request"):
                return self.render(request, "_preview.html", preview=preview, last=last)
        _, policy = get_site(self.store, name)
        return self.render(
            request,
            "policy.html",
            sites=all_sites,
            site=name,
            policy=policy,
            preview=preview,
            message=message,
            last=last,
        )

    # ------------------------------------------------------------------ site adapters

    async def adapters_page(self, request: Request, user: Account) -> Response:
        q = request.query_params
        message = None
        done, site, version = q.get("done"), q.get("site") or "", q.get("version") or ""
        if done == "retrained":
            info = next((i for i in adapters(self.store, site) if str(i.version) == version), None)
            if info is not None and info.serving:
                message = f"Retrained {site}: version {version} serves."
            else:
                message = (
                    f"Retrained {site}: version {version} does not serve "
                    "(no attribute beats the base model on held-out decisions yet)."
                )
        elif done == "rolledback":
            message = (
                f"Version {version} of {site} serves again."
                if version != "0"
                else f"The base model serves {site} again."
            )
        return self.adapters_view(request, message=message)

    def adapters_view(
        self,
        request: Request,
        *,
        message: str | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        versions: dict[str, list[AdapterInfo]] = {}
        for info in adapters(self.store):
            versions.setdefault(info.site, []).append(info)
        views = []
        for s in sites(self.store):
            history = sorted(versions.get(s.name, []), key=lambda i: i.version, reverse=True)
            serving = next((i for i in history if i.serving), None)
            views.append(
                _SiteAdapters(
                    name=s.name,
                    history=history,
                    serving=serving,
                    shown=serving or (history[0] if history else None),
                    error=self.retrainer.errors.get(s.name),
                    busy=self.retrainer.busy(s.name),
                )
            )
        return self.render(
            request, "adapters.html", status=status, sites=views, message=message, error=error
        )

    async def adapters_action(self, request: Request, user: Account) -> Response:
        form = await request.form()
        op = str(form.get("op") or "")
        site = str(form.get("site") or "").strip()
        try:
            if not site:
                raise InvalidInput("Say which site.")
            get_site(self.store, site)
            if op == "retrain":
                info = await run_in_threadpool(self.retrainer.now, site, by=user.name)
                done = "retrained"
            elif op == "rollback":
                wanted = _int(str(form.get("version") or ""), "version")
                if wanted is None:
                    raise InvalidInput("Say which version to roll back to.")
                info = rollback(self.store, site, wanted, by=user.name)
                done = "rolledback"
            else:
                raise InvalidInput(f"Unknown operation {op!r}: expected retrain or rollback.")
        except CivilityError as exc:
            return self.adapters_view(request, error=exc.message, status=exc.status)
        except Exception as exc:  # numeric trouble while fitting: one line, never a traceback
            log.exception("retraining the adapter of site %s failed", site)
            return self.adapters_view(
                request, error=f"Retraining {site} failed: {exc}".splitlines()[0], status=500
            )
        target = f"/adapters?site={quote(site)}&done={done}&version={info.version}"
        return RedirectResponse(target, status_code=303)

    async def teach_page(self, request: Request, user: Account) -> Response:
        all_sites = sites(self.store)
        q = request.query_params
        site = q.get("site") or (all_sites[0].name if all_sites else None)
        attribute = attributes.get(q.get("attribute") or "TOXICITY").name
        if site is None:
            return self.render(request, "teach.html", sites=[], site=None, attribute=attribute)

        def rank() -> tuple[str | None, int, list[Candidate], list[Item]]:
            candidates = teach_candidates(self.store, site, limit=TEACH_CANDIDATES)
            scorer = self.scorer()
            if attribute not in scorer.attributes:
                raise InvalidInput(f"The model does not score {attribute}.")
            label, adapter = serving_adapter(self.store, scorer, site)
            # The random half is drawn the same way all day for a site and attribute (while
            # its undecided comments stay the same): reloading the page does not draw again,
            # so nobody can reload until the random comments look easy.
            day = datetime.now(UTC).date().isoformat()
            shown = teach_view(
                scorer,
                adapter,
                candidates,
                attribute,
                shown=TEACH_SHOWN,
                fair_share=self.settings.teach_fair_share,
                rng=random.Random(f"{site}\n{attribute}\n{day}"),
            )
            return label, len(candidates), shown, items(self.store, [c.id for c in shown])

        label, considered, shown, found = await run_in_threadpool(rank)
        return self.render(
            request,
            "teach.html",
            sites=all_sites,
            site=site,
            attribute=attribute,
            adapter=label,
            considered=considered,
            limit=TEACH_CANDIDATES,
            fair_share=self.settings.teach_fair_share,
            hints={c.id: c for c in shown},
            items=found,
        )


@dataclass
class _SiteAdapters:
    name: str
    history: list[AdapterInfo]
    serving: AdapterInfo | None
    shown: AdapterInfo | None  # whose per-attribute report the page shows
    error: str | None
    busy: bool


@dataclass
class _ThreadGroup:
    id: int
    title: str
    site: str
    items: list[Item] = field(default_factory=list)


def _by_thread(items: list[Item]) -> list[_ThreadGroup]:
    """The queue's items grouped by thread, so each card need not repeat its article's title:
    threads in the order of their worst item, items worst first within each."""
    groups: dict[int, _ThreadGroup] = {}
    for it in items:
        group = groups.get(it.thread_id)
        if group is None:
            group = groups[it.thread_id] = _ThreadGroup(it.thread_id, it.thread_title, it.site)
        group.items.append(it)
    return list(groups.values())


async def _favicon(request: Request) -> Response:
    return FileResponse(
        str(resources.files("civility.web") / "static" / "favicon.ico"),
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _safe_next(value: str | None) -> str:
    """Only local paths: never redirect a moderator off-site after logging in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/queue"
    return value


def _int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a whole number. Got {value!r}.") from None


def _policy_from_form(form: FormData, site: str) -> Policy:
    thresholds: dict[str, dict[str, float]] = {}
    for name in attributes.NAMES:
        entry: dict[str, float] = {}
        for kind in ("hold", "reject"):
            raw = str(form.get(f"{name}.{kind}") or "").strip()
            if raw:
                try:
                    entry[kind] = float(raw)
                except ValueError:
                    raise InvalidInput(
                        f"{name} {kind} must be a number in [0, 1]. Got {raw!r}."
                    ) from None
        if entry:
            thresholds[name] = entry
    return Policy.from_dict({"name": site, "thresholds": thresholds}, source=f"policy of {site}")


def _to_toml(policy: Policy) -> str:
    lines = [f"name = {_toml_str(policy.name)}"]
    for name, threshold in policy.thresholds.items():
        lines.append(f"\n[thresholds.{name}]")
        if threshold.hold is not None:
            lines.append(f"hold = {threshold.hold!r}")
        if threshold.reject is not None:
            lines.append(f"reject = {threshold.reject!r}")
    return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return HTMLResponse(
        f"<!doctype html><title>{status}</title><p>{status}</p>", status_code=status
    )


def create_app(settings: Settings, store: Store, *, scorer: Scorer | None = None) -> Starlette:
    """The moderator UI as an ASGI app; the API server mounts it at ``/``. ``scorer`` (the
    API's, when mounted beside it) retrains site adapters and ranks the teach view; without
    one the UI loads the model of ``settings.model_dir`` the first time it needs it."""
    ui = _UI(settings, store, scorer)
    mod = ui.page(role="moderator")
    admin = ui.page(role="admin")
    routes = [
        Route("/", mod(ui.home)),
        Route("/login", ui.login, methods=["GET", "POST"]),
        Route("/favicon.ico", _favicon),
        Route("/logout", ui.logout, methods=["POST"]),
        Route("/queue", mod(ui.queue_page)),
        Route("/comments/{comment_id}/decide", mod(ui.decide_action), methods=["POST"]),
        Route("/threads/{thread_id}", mod(ui.thread_page)),
        Route("/audit", mod(ui.audit_page)),
        Route("/feedback", mod(ui.feedback_page)),
        Route("/admin/users", admin(ui.users_page), methods=["GET", "POST"]),
        Route("/admin/policy", admin(ui.policy_page), methods=["GET", "POST"]),
        Route("/adapters", admin(ui.adapters_page)),
        Route("/adapters", admin(ui.adapters_action), methods=["POST"]),
        Route("/teach", mod(ui.teach_page)),
        Mount(
            "/static",
            StaticFiles(directory=str(resources.files("civility.web") / "static")),
            name="static",
        ),
    ]
    secret = settings.secret_key or secrets.token_hex(32)
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie=SESSION_COOKIE,
            same_site="lax",
            https_only=False,
            max_age=8 * 3600,
        ),
    ]
    handlers = {404: _http_error, 405: _http_error}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


__all__ = ["create_app"]
