"""Load on ``civility serve``: single-comment ``comments:analyze`` at rising request rates.

Starts ``civility serve`` (one worker, a temporary SQLite store, default settings otherwise)
on 127.0.0.1, sends requests open-loop at each rate for a few seconds, and prints p50/p99
latency and errors per rate, the highest rate held with p99 < 50 ms and no errors, and the
server's resident memory. Stops by itself (bounded rates, durations and request counts).

    PYTHONPATH=src python benchmarks/serve_load.py [--rates 25,50,100,200,300] [--seconds 4]

The load generator shares the machine with the server: on a 2-core box it takes CPU too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TEXTS = (
    "Thanks for the thoughtful article, I learned a lot.",
    "You are a complete idiot and everyone here knows it.",
    "The council should publish the budget before the vote.",
    "Shut up, nobody cares about your stupid opinion.",
    "I disagree with the author, but the data is interesting.",
    "Go back to where you came from, you pathetic loser.",
    "Great photos! Where was the second one taken?",
    "This is the dumbest thing I have read all week.",
)
P99_BUDGET_MS = 50.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _run_rate(base: str, key: str, rate: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal errors
            body = {
                "comment": {"text": TEXTS[i % len(TEXTS)]},
                "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
            }
            start = time.perf_counter()
            try:
                r = await client.post("/v1alpha1/comments:analyze", params={"key": key}, json=body)
                if r.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - start) * 1000)

        t0 = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="25,50,100,150,200,300")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="civility-load-"))
    port = _free_port()
    src = Path(__file__).resolve().parent.parent / "src"
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "CIVILITY_DATABASE_URL": f"sqlite:///{tmp / 'api.db'}",
        "CIVILITY_RATE_LIMIT_PER_MINUTE": "0",
    }
    civility = [sys.executable, "-c", "from civility.cli import main; main()"]
    key = subprocess.run(
        [*civility, "keys", "create", "load"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    server = subprocess.Popen(
        [*civility, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise SystemExit("server did not start")
        warm = httpx.Client(base_url=base, params={"key": key})
        for i in range(40):  # warm-up: first requests pay for lazy imports and caches
            warm.post(
                "/v1alpha1/comments:analyze",
                json={
                    "comment": {"text": TEXTS[i % len(TEXTS)]},
                    "requestedAttributes": {"TOXICITY": {}},
                },
            )
        warm.close()
        with open("/proc/loadavg") as f:
            print(f"load average before the run: {f.read().split()[0]}")
        print(
            f"civility serve (1 worker) on 127.0.0.1, {os.cpu_count()} CPUs, "
            f"{args.seconds:g} s per rate, open-loop, 2 attributes per request"
        )
        print(f"{'rate/s':>7} {'sent':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        held = 0
        for rate in rates:
            latencies, errors = asyncio.run(_run_rate(base, key, rate, args.seconds))
            p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
            print(f"{rate:>7} {len(latencies):>6} {p50:>8.1f} {p99:>8.1f} {errors:>7}")
            if p99 < P99_BUDGET_MS and errors == 0:
                held = rate
            elif p99 > 10 * P99_BUDGET_MS:
                break
        print(f"highest rate held with p99 < {P99_BUDGET_MS:g} ms and no errors: {held} req/s")
        print(f"server resident memory: {_rss_mib(server.pid):.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
