"""The README's install, as a newcomer runs it: a fresh virtual environment, exactly the
README's install line, then every command the README shows, once each, with no traceback.

The fresh-venv tests are a smoke test (marked slow: the install fetches or reuses from pip's
cache every dependency). The first tests below need no fresh venv: they check that a missing
module is one line and exit 2 in any install."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cli_support import run_cli as cli_in_process

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
README = (REPO / "README.md").read_text(encoding="utf-8")
EXAMPLE = "examples/southfront-syria-comments.txt"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SPARK_LINE = (
    "Error: '--engine spark' needs PySpark, which is not installed: pip install 'civility[spark]'"
)
PASSWORD = "a newcomer's password"


def readme_block(heading: str, lang: str) -> str:
    """The first ```lang block after the README heading ``heading``."""
    start = README.index(heading)
    found = re.compile(rf"^```{lang}\n(.*?)^```", re.M | re.S).search(README, start)
    assert found is not None, f"no {lang} block after {heading!r}"
    return found[1]


def commands(block: str) -> list[str]:
    """A bash block's command lines, comments dropped."""
    lines = [line.split(" #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def run_cli(
    *args: str, env: Mapping[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), env=dict(env), cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300
    )


def assert_no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr


# ------------------------------------------------------------------ any install: one line


def _civility_without(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``civility ARGS`` in this interpreter with ``module`` made unimportable."""
    code = (
        f"import sys; sys.modules[{module!r}] = None; sys.argv = ['civility', *sys.argv[1:]]; "
        "from civility.cli import main; main()"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return run_cli(sys.executable, "-c", code, *args, env=env, cwd=cwd)


@pytest.mark.slow  # a process of its own, where the module is missing
def test_a_missing_module_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    done = _civility_without(
        "sqlalchemy", "keys", "create", "x", "--db", "sqlite:///k.db", cwd=tmp_path
    )
    assert done.returncode == 2
    assert done.stderr == (
        "Error: The Python module 'sqlalchemy' is not installed, though civility needs it; "
        "reinstall civility with its dependencies (pip install -e . in its checkout).\n"
    )
    assert done.stdout == ""


@pytest.mark.slow  # a process of its own, where the module is missing
def test_spark_engine_without_pyspark_says_how_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"id": 1, "text": "hello"}\n', encoding="utf-8")
    done = _civility_without(
        "pyspark", "batch", "in.jsonl", "out.parquet", "--engine", "spark", cwd=tmp_path
    )
    assert (done.returncode, done.stderr, done.stdout) == (2, SPARK_LINE + "\n", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.slow  # a process of its own, where the module is missing
def test_a_missing_spark_dependency_names_the_spark_extra(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    (tmp_path / "in.jsonl").write_text('{"id": 1, "text": "hello"}\n', encoding="utf-8")
    done = _civility_without(
        "py4j", "batch", "in.jsonl", "out.parquet", "--engine", "spark", cwd=tmp_path
    )
    assert done.returncode == 2
    assert done.stderr == (
        "Error: The Python module 'py4j' is not installed; it comes with civility's Spark extra: "
        "pip install 'civility[spark]'\n"
    )


def test_keys_take_a_database_url_like_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = cli_in_process("keys", "create", "site", "--db", "sqlite:///keys.db")
    assert made.returncode == 0, made.stderr
    listed = cli_in_process("keys", "list", "--db", "sqlite:///keys.db")
    assert listed.stdout.startswith("site\t" + made.stdout[:8])
    assert not (tmp_path / "civility.db").exists()


# ------------------------------------------------------------------ a fresh venv (slow)


@dataclass(frozen=True)
class Venv:
    bin: Path
    env: dict[str, str]

    def civility(
        self, *args: str, cwd: Path, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(str(self.bin / "civility"), *args, env=self.env, cwd=cwd, stdin=stdin)

    def sh(
        self, line: str, cwd: Path, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """One command line pasted as is, with the venv activated."""
        return run_cli("bash", "-c", line, env=self.env, cwd=cwd, stdin=stdin)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """``python3 -m venv`` and then exactly the README's install line, run in this checkout."""
    quick_start = readme_block("## Quick start", "bash").strip()
    install = [part.strip() for part in quick_start.split("&&") if "pip install" in part]
    assert install == ["pip install -e ."], quick_start
    home = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=300)
    # Nothing of this interpreter's environment leaks in: no PYTHONPATH, no CIVILITY_* settings.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "CIVILITY_", "VIRTUAL_ENV"))
    }
    env |= {
        "PATH": f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "VIRTUAL_ENV": str(home),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    fresh = Venv(home / "bin", env)
    started = time.monotonic()
    done = fresh.sh(install[0], cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sys.stderr.write(f"\nfresh venv: '{install[0]}' took {time.monotonic() - started:.0f} s\n")
    return fresh


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory holding the checkout's examples, as a fresh clone's working directory."""
    (tmp_path / "examples").mkdir()
    for example in (REPO / "examples").iterdir():
        (tmp_path / "examples" / example.name).write_bytes(example.read_bytes())
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serving(venv: Venv) -> Iterator[list[subprocess.Popen[str]]]:
    """Servers started by a test; terminated (SIGTERM, as Ctrl-C would) at its end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)


def start_server(
    venv: Venv, line: str, cwd: Path, port: int, started: list[subprocess.Popen[str]]
) -> str:
    """Run a pasted ``civility serve`` line (CIVILITY_PORT picks a free port unless the line
    names one) and wait for /healthz."""
    log = (cwd / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        ["bash", "-c", "exec " + line],
        env={**venv.env, "CIVILITY_PORT": str(port)},
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started.append(proc)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, (cwd / f"serve-{port}.log").read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return base
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not answer /healthz")


def log_in_and_see_queue(base: str) -> None:
    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as ui:
        page = ui.get("/")
        assert page.status_code == 200
        assert page.url.path == "/login"
        assert "<title>Log in" in page.text
        token = CSRF_RE.search(page.text)
        assert token is not None
        ui.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token[1]})
        queue = ui.get("/queue")
        assert queue.status_code == 200 and queue.url.path == "/queue"
        # The imported page's held comments are there (c1 by John Mason is held).
        assert '<strong class="author">John Mason</strong>' in queue.text


@pytest.mark.slow
def test_fresh_install_runs_this_checkout_without_spark(venv: Venv, tmp_path: Path) -> None:
    where = venv.sh("python -c 'import civility; print(civility.__file__)'", cwd=tmp_path)
    assert where.stdout.strip() == str(SRC / "civility" / "__init__.py"), where.stderr
    spark = venv.sh("python -c 'import pyspark'", cwd=tmp_path)
    assert "No module named 'pyspark'" in spark.stderr


@pytest.mark.slow
def test_fresh_install_runs_every_command_line_of_the_readme(venv: Venv, workdir: Path) -> None:
    outcomes: list[tuple[str, subprocess.CompletedProcess[str]]] = []

    def civility(*args: str, code: int = 0, stdin: str | None = None) -> str:
        done = venv.civility(*args, cwd=workdir, stdin=stdin)
        outcomes.append((shlex.join(args), done))
        assert_no_traceback(done)
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout + done.stderr

    analysed = civility("analyze", EXAMPLE, "--html", "report.html")
    assert "28 comments: " in analysed and (workdir / "report.html").stat().st_size > 0
    assert '"model_version"' in civility("analyze", EXAMPLE, "--json")
    assert "28 comments: " in civility(
        "analyze", EXAMPLE, "--policy", "examples/strict-policy.toml"
    )
    assert "TOXICITY" in civility("score", "some text")
    assert "TOX" in civility("score", "-", stdin="You are an idiot\n")
    site = ("--site", "example", "--db", "sqlite:///civility.db")
    assert "Site 'example' has no serving adapter" in civility("score", "buy crypto now", *site)
    assert civility("keys", "create", "my-site").startswith("civ_")

    (workdir / "comments.jsonl").write_text(
        '{"id": 1, "text": "You are an idiot"}\n{"id": 2, "text": "Thanks for the article"}\n',
        encoding="utf-8",
    )
    scored = civility("batch", "comments.jsonl", "scored.parquet", "--workers", "1")
    assert scored.startswith("Scored 2 comments into scored.parquet")
    (workdir / "comments.csv").write_text("id,text\n1,You are an idiot\n", encoding="utf-8")
    assert civility("batch", "comments.csv", "scored.csv", "--workers", "1").startswith(
        "Scored 1 comments"
    )
    assert (
        civility("batch", "comments.jsonl", "spark.parquet", "--engine", "spark", code=2)
        == SPARK_LINE + "\n"
    )

    stored = civility("analyze", EXAMPLE, "--db", "sqlite:///analysed.db")
    assert "Stored in sqlite:///analysed.db: 28 comments added" in stored
    # train and eval import their whole stack (pandas, pyarrow) before they look for the data.
    for command in ("train", "eval"):
        missing = civility(command, "--data", "no-such-dir", code=2)
        assert missing.splitlines()[-1].startswith("Error: Corpus "), missing

    sys.stderr.write(
        "".join(f"\n$ civility {a}\n{d.stdout[-400:]}{d.stderr[-400:]}" for a, d in outcomes)
    )


@pytest.mark.slow
def test_readme_perspective_server_commands_answer_analyze(
    venv: Venv, workdir: Path, serving: list[subprocess.Popen[str]]
) -> None:
    keys, serve = commands(readme_block("### A drop-in Perspective API server", "bash"))
    made = venv.sh(keys, cwd=workdir)
    assert made.returncode == 0 and made.stdout.startswith("civ_"), made.stderr
    port = free_port()
    assert "--port 8080" in serve
    base = start_server(
        venv, serve.replace("--port 8080", f"--port {port}"), workdir, port, serving
    )
    analyzed = httpx.post(
        f"{base}/v1alpha1/comments:analyze?key={made.stdout.strip()}",
        json={"comment": {"text": "You are an idiot"}, "requestedAttributes": {"TOXICITY": {}}},
        timeout=60,
    )
    assert analyzed.status_code == 200, analyzed.text
    assert analyzed.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.5


@pytest.mark.slow
def test_readme_queue_commands_pasted_word_for_word_reach_the_queue(
    venv: Venv, workdir: Path, serving: list[subprocess.Popen[str]]
) -> None:
    users, import_, serve = commands(readme_block("### The moderation queue", "bash"))
    made = venv.sh(users, cwd=workdir, stdin=PASSWORD + "\n")
    assert (made.returncode, made.stdout) == (0, "Created admin 'admin'.\n"), made.stderr
    imported = venv.sh(import_, cwd=workdir)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("28 comments added, 0 already present")
    for done in (made, imported):
        assert_no_traceback(done)
    log_in_and_see_queue(start_server(venv, serve, workdir, free_port(), serving))

    # The README's complete civility.toml, and the command it gives for it, serve the same
    # database (CIVILITY_PORT overrides the file's port, as documented).
    (workdir / "civility.toml").write_text(readme_block("### The moderation queue", "toml"))
    with_config = "civility serve --config civility.toml"
    assert f"`{with_config}`" in README
    log_in_and_see_queue(start_server(venv, with_config, workdir, free_port(), serving))
