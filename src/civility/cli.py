"""The ``civility`` command: each command parses its arguments, calls one library function
and prints the result. ``CivilityError`` is caught in exactly one place (``main``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from civility.errors import CivilityError

if TYPE_CHECKING:
    from civility.moderate import Analysis
    from civility.scorer import Scorer
    from civility.store import AdapterInfo, Store

app = typer.Typer(
    name="civility",
    help="Self-hosted moderation engine: score, explain and decide comments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
# The one optional part of civility: everything else is in the default install.
SPARK_INSTALL = "pip install 'civility[spark]'"
SPARK_MODULES = frozenset({"pyspark", "py4j"})
err_console = Console(stderr=True, soft_wrap=True)

PolicyOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional on 3.11 annotations
    typer.Option("--policy", help="TOML policy file replacing the default policy."),
]
ModelOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--model", help="Model artifact directory (default: the shipped model)."),
]


# ---------------------------------------------------------------- engine: analyze, score
# (owned by the engine work: ingest, policy, report)


@app.command()
def analyze(
    page: Annotated[
        Path,
        typer.Argument(
            help="Page text dump, JSONL or CSV of comments, Disqus or WordPress export."
        ),
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the full result as JSON.")
    ] = False,
    html: Annotated[
        Optional[Path], typer.Option("--html", help="Write an HTML report here.")  # noqa: UP045
    ] = None,
    policy: PolicyOption = None,
    model: ModelOption = None,
    db: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--db",
            help="Also store the analysis in this database (SQLAlchemy URL), as 'civility import' does.",
        ),
    ] = None,
    site: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--site",
            help="Site the thread belongs to (with --db; default 'default'): its serving "
            "adapter, if any, scores the comments (read from --db, else the database_url setting).",
        ),
    ] = None,
) -> None:
    """Split a page into article and comments; score, explain and decide every comment."""
    from civility.ingest import read_thread
    from civility.moderate import analyze_thread
    from civility.policy import Policy
    from civility.report import check_writable, print_analysis, to_json, write_html

    if html is not None:
        check_writable(html)
    thread = read_thread(page)
    rules = Policy.load(policy) if policy else Policy.default()
    store = _open_store(db) if db is not None or site is not None else None
    scorer = _load_scorer(model, store, site if db is None else site or DEFAULT_SITE)
    analysis = _labelled(analyze_thread(thread, scorer, rules), scorer)
    if store is not None and db is not None:
        from civility.store import import_thread, thread_key

        stored = import_thread(
            store,
            analysis.thread,
            site=site or DEFAULT_SITE,
            key=thread_key(analysis.thread),
            scores=[r.scores for r in analysis.results],
            policy=rules,
        )
        err_console.print(
            f"Stored in {db}: {stored.added} comments added, {stored.skipped} already present"
            + (f", {stored.updated} updated." if stored.updated else "."),
            markup=False,
            highlight=False,
        )
    if json_out:
        sys.stdout.write(to_json(analysis) + "\n")
    else:
        print_analysis(analysis, console)
    if html is not None:
        write_html(analysis, html)
        if not json_out:
            console.print(f"Report written to {html}")


@app.command()
def score(
    text: Annotated[
        str, typer.Argument(help="Text to score, or '-' to read stdin (a text per line, or JSONL).")
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    spans: Annotated[
        bool, typer.Option("--spans", help="Include the spans behind each score.")
    ] = False,
    model: ModelOption = None,
    site: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--site",
            help="Score with this site's serving adapter (from --db, else the database_url "
            "setting); each result names the adapter, null when the base model scored.",
        ),
    ] = None,
    db: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--db", help="Database holding the site's adapter, with --site."),
    ] = None,
) -> None:
    """Score one text, or many from stdin."""
    from civility.adapted import adapter_label
    from civility.errors import InvalidInput
    from civility.report import print_scores, score_texts

    if db is not None and site is None:
        raise InvalidInput("'--db' needs '--site SITE': the database holds the sites' adapters.")
    if site is None:
        results = score_texts(text, sys.stdin, model_dir=model, spans=spans)
        print_scores(results, console, as_json=json_out)
        return
    scorer = _load_scorer(model, _open_store(db), site)
    results = score_texts(text, sys.stdin, spans=spans, scorer=scorer)
    print_scores(results, console, as_json=json_out, adapter=adapter_label(scorer), site=site)


# ---------------------------------------------------------------- learning: train, eval


@app.command()
def train(
    data: Annotated[
        Optional[Path], typer.Option("--data", help="Corpus directory (default ../shared/data).")  # noqa: UP045
    ] = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", help="Artifact directory (default: the package's models/)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--eval/--no-eval", help="Measure the model and record the figures in its card."
        ),
    ] = True,
) -> None:
    """Train the model from the corpora, deterministically, and write artifact + model card."""
    from civility.train.pipeline import run_training

    run_training(data_dir=data, out_dir=out, seed=seed, console=console, evaluate=evaluate)


@app.command(name="eval")
def evaluate(
    data: Annotated[
        Optional[Path], typer.Option("--data", help="Corpus directory (default ../shared/data).")  # noqa: UP045
    ] = None,
    model: ModelOption = None,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain",
            help="Also the figures that refit: leave-one-corpus-out and span cross-validation (minutes).",
        ),
    ] = False,
    suite_only: Annotated[
        bool,
        typer.Option(
            "--suite-only", help="Only the news-comment suite and span faithfulness (seconds)."
        ),
    ] = False,
) -> None:
    """Print the held-out, cross-domain, HateCheck, bias, news-comment suite and span metrics."""
    from civility.train.pipeline import run_evaluation, run_suite_evaluation

    if suite_only:
        run_suite_evaluation(data_dir=data, model_dir=model, console=console)
    else:
        run_evaluation(data_dir=data, model_dir=model, console=console, retrain=retrain)


# ---------------------------------------------------------------- server: serve, keys

ConfigOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--config", help="TOML settings file (CIVILITY_* variables override it)."),
]
DbOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--db", help="Database URL (default: the database_url setting)."),
]


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on.")] = None,  # noqa: UP045
    port: Annotated[Optional[int], typer.Option("--port", help="Port to listen on.")] = None,  # noqa: UP045
    workers: Annotated[Optional[int], typer.Option("--workers", help="Worker processes.")] = None,  # noqa: UP045
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Serve the Perspective-compatible API, the native API and the moderator UI over HTTP."""
    import secrets

    from civility.api import serve as run_server
    from civility.settings import Settings

    settings = Settings.from_sources(
        config, overrides={"host": host, "port": port, "workers": workers, "database_url": db}
    )
    if not settings.secret_key:
        # One secret for every worker, so a session cookie is valid whichever worker answers;
        # without a configured secret_key, sessions end when the server restarts.
        from dataclasses import replace

        settings = replace(settings, secret_key=secrets.token_hex(32))
    # Create and migrate the database here, once, before the workers start: they then find it
    # at head instead of racing each other to migrate it; a bad URL fails before binding. The
    # store's migrations create the API server's tables too.
    from civility.store import Store

    Store.open(settings.database_url).close()
    run_server(settings, factory="civility.web._server:app_from_environment")


keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _api_storage(config: Path | None, db: str | None):  # type: ignore[no-untyped-def]
    from civility.settings import Settings
    from civility.store import SqlStorage

    settings = Settings.from_sources(config, overrides={"database_url": db})
    return SqlStorage(settings.database_url).create_all()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A name for the key (who or what uses it).")],
    site: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--site",
            help="Bind the key to a site: its requests without a communityId (or site) are "
            "that site's, scored with the site's adapter.",
        ),
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Create a key and print it once: only its hash is stored."""
    storage = _api_storage(config, db)
    key = storage.create_key(name) if site is None else storage.create_key(name, site=site)
    sys.stdout.write(key + "\n")


@keys_app.command("list")
def keys_list(config: ConfigOption = None, db: DbOption = None) -> None:
    """List keys: name, first characters, created, revoked; then the site of a bound key."""
    utc = "%Y-%m-%dT%H:%M:%S"  # the store's datetimes are aware UTC; printed without the offset
    for k in _api_storage(config, db).list_keys():
        revoked = k.revoked_at.strftime(utc) if k.revoked_at else "active"
        bound = f"\tsite {k.site}" if k.site else ""
        sys.stdout.write(f"{k.name}\t{k.hint}...\t{k.created_at.strftime(utc)}\t{revoked}{bound}\n")


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="Name of the key to revoke.")],
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Revoke a key: requests with it are refused from then on."""
    _api_storage(config, db).revoke_key(name)
    sys.stdout.write(f"Revoked {name}.\n")


# ---------------------------------------------------------------- queue: import, users

users_app = typer.Typer(help="Manage moderator accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _open_store(db: str | None) -> Store:
    from civility.settings import Settings
    from civility.store import Store

    return Store.open(db or Settings.from_sources().database_url)


DEFAULT_SITE = "default"


def _load_scorer(model: Path | None, store: Store | None, site: str | None) -> Scorer:
    """The model, with ``site``'s serving adapter applied when ``store`` has one for this
    model (``civility.store.site_scorer``); the model alone otherwise."""
    from civility.scorer import Scorer

    scorer = Scorer(model).load()
    if store is None or not site:
        return scorer
    from civility.store import site_scorer

    return site_scorer(store, scorer, site)


def _labelled(analysis: Analysis, scorer: Scorer) -> Analysis:
    """``analysis`` with its model version, and each comment's, read "BASE+SITE/vN" when a
    site's adapter scored it (what the store keeps, and what the reports print)."""
    from dataclasses import replace

    from civility.adapted import adapter_label, labelled_version

    if adapter_label(scorer) is None:
        return analysis
    version = labelled_version(analysis.model_version, scorer)
    results = tuple(
        replace(r, scores=replace(r.scores, model_version=version) if r.scores else None)
        for r in analysis.results
    )
    return replace(analysis, model_version=version, results=results)


@app.command(name="import")
def import_(
    file: Annotated[Path, typer.Argument(help="Page dump, JSONL, CSV, Disqus or WXR export.")],
    db: DbOption = None,
    site: Annotated[
        str,
        typer.Option(
            "--site", help="Site of the thread; its serving adapter, if any, scores the comments."
        ),
    ] = DEFAULT_SITE,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Comments scored and committed together.")
    ] = 200,
    model: ModelOption = None,
) -> None:
    """Import a thread into the store: score, decide and queue its comments. Safe to re-run."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from civility.adapted import adapter_label
    from civility.ingest import require_file
    from civility.store import import_file

    require_file(file)
    store = _open_store(db)
    scorer = _load_scorer(model, store, site)
    columns = (TextColumn("Importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("import", total=None)
        result = import_file(
            store,
            file,
            site=site,
            scorer=scorer,
            chunk_size=chunk_size,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    updated = f", {result.updated} updated" if result.updated else ""
    where = f"thread {result.thread_key!r}" if result.threads == 1 else f"{result.threads} threads"
    label = adapter_label(scorer)
    adapted = f" Scored with the site's adapter {label}." if label else ""
    console.print(
        f"{result.added} comments added, {result.skipped} already present{updated} "
        f"({result.held} held, {result.rejected} rejected) in site {result.site!r}, {where}."
        + adapted,
        markup=False,
        highlight=False,
    )


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="User name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Give the admin role.")] = False,
    password: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--password", help="Password; prompted, or read from stdin, when omitted."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a user; the first admin is made this way."""
    from civility.store import create_user

    if password is None:
        if sys.stdin.isatty():
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    account = create_user(_open_store(db), name, password, "admin" if admin else "moderator")
    console.print(f"Created {account.role} {account.name!r}.", markup=False, highlight=False)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List users and their roles."""
    from civility.store import list_users

    for account in list_users(_open_store(db)):
        state = "" if account.active else " (inactive)"
        console.print(f"{account.name}\t{account.role}{state}", markup=False, highlight=False)


# ---------------------------------------------------------------- adapt: feedback, adapt, adapters

feedback_app = typer.Typer(
    help="A site's moderation decisions, as labels for its adapter.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("import")
def feedback_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV or JSONL: 'text' and a label ('toxic' 0/1, 'decision' approve/reject, "
            "or 'attribute' and 'score'); optional 'id' and 'source'."
        ),
    ],
    site: Annotated[str, typer.Option("--site", help="The site the decisions were made on.")],
    db: DbOption = None,
) -> None:
    """Record decisions made elsewhere as the site's labelled examples (the whole file is
    checked first: a bad row records nothing)."""
    from civility.store import import_feedback

    result = import_feedback(_open_store(db), file, site)
    per = "; ".join(f"{a} {n:,} ({p:,} positive)" for a, (n, p) in result.attributes.items())
    console.print(
        f"Recorded {result.recorded:,} examples from {result.rows:,} rows for site "
        f"{result.site!r}: {per}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _print_adapter(info: AdapterInfo, serving: str) -> None:
    console.print(
        f"Site {info.site!r}: version {info.version} ({info.labels:,} labelled texts, "
        f"base {info.base_version}) is {info.status}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for attribute, r in info.report.items():
        auc = (
            f"held-out AUC base {r['auc_base']:.4f}, adapted {r['auc_adapted']:.4f}"
            if r.get("auc_base") is not None and r.get("auc_adapted") is not None
            else "held-out AUC -"
        )
        state = "active" if r.get("active") else f"inactive ({r.get('reason', 'not activated')})"
        console.print(
            f"  {attribute}: {r.get('labels', 0):,} labels ({r.get('positives', 0):,} positive), "
            f"{auc}: {state}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"  Serving: {serving}", markup=False, highlight=False, soft_wrap=True)


def _serving(store: Store, site: str) -> str:
    from civility.store import adapters

    now = next((a for a in adapters(store, site) if a.serving), None)
    if now is None:
        return "the base model (no adapter)"
    return f"{now.label} ({', '.join(now.active) or 'no attribute'} adapted)"


@app.command()
def adapt(
    site: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--site", help="The site whose adapter to retrain (or roll back)."),
    ] = None,
    all_sites: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every site with labels; adapters of another base model are retrained first.",
        ),
    ] = False,
    rollback_to: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--rollback",
            metavar="VERSION",
            help="Serve this stored version of the site's adapter instead (0: the base model).",
        ),
    ] = None,
    db: DbOption = None,
    model: ModelOption = None,
) -> None:
    """Retrain a site's adapter on its labelled examples now, and say which version serves."""
    from civility.errors import InvalidInput
    from civility.store import refresh_adapters, retrain, rollback, site_examples, sites

    if (site is None) == (not all_sites):
        raise InvalidInput("Give either '--site SITE' or '--all'.")
    if rollback_to is not None:
        if site is None:
            raise InvalidInput("'--rollback' needs '--site SITE'.")
        if rollback_to < 0:
            raise InvalidInput(f"'--rollback' takes a version number. Got {rollback_to}.")
        store = _open_store(db)
        rollback(store, site, rollback_to, by="cli")
        console.print(
            f"Site {site!r} now serves {_serving(store, site)}.", markup=False, highlight=False
        )
        return
    from civility.scorer import Scorer
    from civility.settings import Settings
    from civility.store import adapt_settings

    store = _open_store(db)
    scorer = Scorer(model).load()
    guards = adapt_settings(Settings.from_sources())
    if site is not None:
        info = retrain(store, scorer, site, by="cli", settings=guards)
        _print_adapter(info, _serving(store, site))
        return
    done = {info.site: info for info in refresh_adapters(store, scorer, settings=guards)}
    for name in [s.name for s in sites(store)]:
        if name not in done and site_examples(store, name):
            done[name] = retrain(store, scorer, name, by="cli", settings=guards)
    if not done:
        console.print(
            "No site has labelled examples yet.", markup=False, highlight=False, soft_wrap=True
        )
    for name in sorted(done):
        _print_adapter(done[name], _serving(store, name))


@app.command(name="adapters")
def adapters_list(
    site: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--site", help="Only this site's versions."),
    ] = None,
    db: DbOption = None,
) -> None:
    """List the stored adapter versions: site, version, status, base model, labels, active attributes."""
    from civility.store import adapters

    utc = "%Y-%m-%dT%H:%M:%S"
    found = adapters(_open_store(db), site)
    if not found:
        where = f" for site {site!r}" if site is not None else ""
        console.print(f"No adapters{where}.", markup=False, highlight=False, soft_wrap=True)
    for a in found:
        serving = "*" if a.serving else " "
        sys.stdout.write(
            f"{serving} {a.site}\tv{a.version}\t{a.status}\tbase {a.base_version}\t"
            f"{a.labels:,} labels\tactive: {', '.join(a.active) or '-'}\t"
            f"{a.created_at.strftime(utc)}\t{a.created_by or ''}\n"
        )


# ---------------------------------------------------------------- batch


@app.command()
def batch(
    input_path: Annotated[
        Path,
        typer.Argument(metavar="IN", help="Parquet, JSONL or CSV with 'id' and 'text' columns."),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            metavar="OUT", help="Output file (.parquet, .jsonl or .csv); a directory for Spark."
        ),
    ],
    engine: Annotated[
        str, typer.Option("--engine", help="local (worker processes) or spark.")
    ] = "local",
    workers: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--workers", help="Worker processes, or N in local[N] (default: all cores)."),
    ] = None,
    master: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--master", help="Spark master URL: local[N], spark://host:port, yarn."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="Comments per chunk (local) or Arrow batch (Spark).")
    ] = 5000,
    policy: PolicyOption = None,
    model: ModelOption = None,
    site: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--site",
            help="Score with this site's serving adapter (from --db, else the database_url "
            "setting); adds the 'adapter' column.",
        ),
    ] = None,
    db: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--db", help="Database holding the site's adapter, with --site."),
    ] = None,
) -> None:
    """Score a comment archive: input columns plus one column per attribute, decision, model version."""
    from civility.batch import SiteAdapterBytes, run_local, run_spark
    from civility.errors import InvalidInput
    from civility.policy import Policy

    if engine not in ("local", "spark"):
        raise InvalidInput(f"'--engine' must be one of local, spark. Got {engine!r}.")
    if master is not None and engine != "spark":
        raise InvalidInput("'--master' needs '--engine spark'.")
    if engine == "spark" and importlib.util.find_spec("pyspark") is None:
        raise InvalidInput(
            f"'--engine spark' needs PySpark, which is not installed: {SPARK_INSTALL}"
        )
    if db is not None and site is None:
        raise InvalidInput("'--db' needs '--site SITE': the database holds the sites' adapters.")
    rules = Policy.load(policy) if policy is not None else None
    adapter: SiteAdapterBytes | None = None
    if site is not None:
        # The workers get the adapter's bytes and rebuild it over their own copy of the model.
        from civility.adapted import AdaptedScorer

        scorer = _load_scorer(model, _open_store(db), site)
        if isinstance(scorer, AdaptedScorer):
            adapter = SiteAdapterBytes.of(scorer)
        else:
            err_console.print(
                f"Site {site!r} has no serving adapter for this model: the model alone scores "
                "(the 'adapter' column is empty).",
                markup=False,
                highlight=False,
            )
    with_adapter = f", adapter {adapter.label}" if adapter is not None else ""
    if engine == "spark":
        sr = run_spark(
            input_path,
            output,
            master=master,
            workers=workers,
            chunk_size=chunk_size,
            policy=rules,
            model_dir=model,
            site=site,
            adapter=adapter,
        )
        console.print(
            f"Scored {sr.rows:,} comments on Spark ({sr.master}) into {sr.output}/ "
            f"(model {sr.model_version}{with_adapter}); decisions: {_counts(sr.decisions)}; empty text: {sr.empty:,}."
        )
        return
    try:
        r = run_local(
            input_path,
            output,
            workers=workers,
            chunk_size=chunk_size,
            policy=rules,
            model_dir=model,
            console=err_console,
            site=site,
            adapter=adapter,
        )
    except KeyboardInterrupt:
        err_console.print(
            f"Interrupted: finished chunks are kept in {output}.parts; run the same command to resume.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(130) from None
    resumed = f", {r.resumed_chunks} of {r.chunks} chunks resumed" if r.resumed_chunks else ""
    console.print(
        f"Scored {r.rows:,} comments into {r.output} in {r.seconds:.1f} s ({r.rate:,.0f} comments/s{resumed}; "
        f"model {r.model_version}{with_adapter}); decisions: {_counts(r.decisions)}; empty text (left unscored): {r.empty:,}."
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none"


def main() -> None:
    """Entry point: the one place where civility's errors become ``Error: ...`` and an exit code.

    Usage errors, ``--help`` and Ctrl-C are left to typer's standalone mode, which prints
    them and exits with click's codes (2 for usage, 130 for an interrupt). A missing Python
    module (an optional one such as PySpark, or a broken install) is one line and exit 2.
    """
    try:
        app()
    except CivilityError as exc:
        err_console.print(f"Error: {exc.message}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:
        err_console.print(f"Error: {missing_module_message(exc)}", markup=False, highlight=False)
        sys.exit(2)


def missing_module_message(exc: ModuleNotFoundError) -> str:
    """What to install for a module that could not be imported: one line."""
    name = (exc.name or str(exc)).split(".")[0]
    if name in SPARK_MODULES:
        return f"The Python module '{name}' is not installed; it comes with civility's Spark extra: {SPARK_INSTALL}"
    return (
        f"The Python module '{name}' is not installed, though civility needs it; reinstall "
        "civility with its dependencies (pip install -e . in its checkout)."
    )


if __name__ == "__main__":
    main()
