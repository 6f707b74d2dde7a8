"""Batch scoring at scale: comments/s of the local engine (1 and 2 workers) and of Spark
(local[1] and local[2]), the 2-vs-1 speed-up of each, and peak resident memory.

Input: real comments from ../shared/data, repeated to reach --n (default 1,000,000), as JSONL.
Memory: the peak, over the run, of the summed RSS of this process and all its descendants
(worker processes, Spark's JVM and Python workers), sampled from /proc every 0.2 s.

    python benchmarks/batch_scale.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = (
    "civil_comments_spans.parquet",
    "semeval2021_toxic_spans.parquet",
    "impermium2012_insults.parquet",
)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every descendant."""
    tree, todo, total = _children(), [root], 0
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def measured(fn: Callable[[], object]) -> tuple[float, int]:
    """(seconds, peak tree RSS in bytes) of ``fn()``."""
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(os.getpid()))
            stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    stop.set()
    thread.join()
    return seconds, peak[0]


def make_input(path: Path, n: int) -> None:
    import pandas as pd

    texts = [
        t
        for f in FILES
        if (DATA / f).is_file()
        for t in pd.read_parquet(DATA / f, columns=["text"])["text"]
    ]
    if not texts:
        raise SystemExit(f"No corpora in {DATA}.")
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                json.dumps({"id": i, "text": texts[i % len(texts)], "thread_id": f"t{i // 50}"})
                + "\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="comments to score")
    parser.add_argument("--chunk-size", type=int, default=5_000)
    parser.add_argument("--skip-spark", action="store_true")
    args = parser.parse_args()

    from civility.batch import run_local, run_spark
    from civility.batch._spark import spark_session

    work = Path(tempfile.mkdtemp(prefix="civility-batch-"))
    try:
        src = work / "comments.jsonl"
        make_input(src, args.n)
        print(
            f"N = {args.n:,} comments ({src.stat().st_size / 1e6:.0f} MB JSONL), chunk size {args.chunk_size:,}, "
            f"{os.cpu_count()} cores visible (shared machine: figures are noisy)"
        )
        rates: dict[str, float] = {}
        for workers in (1, 2):
            name = f"local, {workers} worker(s)"
            out = work / f"local{workers}.parquet"
            secs, peak = measured(
                lambda w=workers, o=out: run_local(src, o, workers=w, chunk_size=args.chunk_size)
            )
            rates[name] = args.n / secs
            print(
                f"{name:<22} {rates[name]:>9,.0f} comments/s  {secs:7.1f} s  peak RSS (process tree) {peak / 2**30:.2f} GiB"
            )
        if not args.skip_spark:
            for cores in (1, 2):
                name = f"spark, local[{cores}]"
                out = work / f"spark{cores}.parquet"

                def job(c: int = cores, o: Path = out) -> None:
                    session = spark_session(
                        f"local[{c}]",
                        conf={"spark.ui.enabled": "false", "spark.driver.memory": "1g"},
                    )
                    try:
                        run_spark(src, o, spark=session, chunk_size=args.chunk_size)
                    finally:
                        session.stop()

                secs, peak = measured(job)
                rates[name] = args.n / secs
                print(
                    f"{name:<22} {rates[name]:>9,.0f} comments/s  {secs:7.1f} s  peak RSS (process tree) {peak / 2**30:.2f} GiB"
                )
        print(
            "(times include start-up: spawning workers and loading the model; Spark: JVM start and a schema pass)"
        )
        for engine, one, two in (
            ("local", "local, 1 worker(s)", "local, 2 worker(s)"),
            ("spark", "spark, local[1]", "spark, local[2]"),
        ):
            if one in rates and two in rates:
                print(f"{engine}: 2-vs-1 speed-up {rates[two] / rates[one]:.2f}x (target >= 1.8x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
