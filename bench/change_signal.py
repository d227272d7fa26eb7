"""The cross-process change signals considered in docs/adr/0006, measured side by side.

- ``PRAGMA data_version`` on a dedicated connection (chosen): cost of one check, and whether it
  sees a commit by another process.
- ``os.stat`` of the ``-wal`` file (size and mtime): cost of one check, and how often two
  commits leave it unchanged (WAL restarts reuse the file; mtime has a coarse clock).
- a unix-domain datagram socket between two processes: one-way latency of a notification
  (what a push design would add on top of a commit, per listener).

    uv run python -m bench.change_signal

Prints a table and writes bench/results/change_signal.json.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "results" / "change_signal.json"
N = 20_000


def per_call_us(fn: Any, n: int = N) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return round((time.perf_counter() - started) / n * 1e6, 3)


def _writer(path: str, count: int, done: Any) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for i in range(count):
        conn.execute("INSERT INTO t VALUES (?)", (i,))
        if i % 50 == 49:
            conn.execute("PRAGMA wal_checkpoint(RESTART)")
    conn.close()
    done.set()


def signals(tmp: Path) -> dict[str, Any]:
    path = tmp / "s.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    watch = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    wal = Path(str(path) + "-wal")
    dv_cost = per_call_us(lambda: watch.execute("PRAGMA data_version").fetchone())
    stat_cost = per_call_us(lambda: wal.stat())
    # Commits by another process, one at a time: does each signal see every one?
    missed = {"data_version": 0, "wal_stat": 0}
    commits = 300
    other = sqlite3.connect(path, isolation_level=None)
    for i in range(commits):
        dv = watch.execute("PRAGMA data_version").fetchone()[0]
        st = wal.stat()
        other.execute("INSERT INTO t VALUES (?)", (i,))
        if i % 50 == 49:
            other.execute("PRAGMA wal_checkpoint(RESTART)")
        if watch.execute("PRAGMA data_version").fetchone()[0] == dv:
            missed["data_version"] += 1
        after = wal.stat()
        if (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns):
            missed["wal_stat"] += 1
    return {
        "data_version_check_us": dv_cost,
        "wal_stat_check_us": stat_cost,
        "commits": commits,
        "missed_commits": missed,
    }


def _echo(sock_path: str, ready: Any) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    ready.set()
    while True:
        data, addr = sock.recvfrom(64)
        if data == b"stop":
            break
        sock.sendto(data, addr)
    sock.close()


def unix_socket(tmp: Path, rounds: int = 2000) -> dict[str, Any]:
    server_path, client_path = str(tmp / "srv.sock"), str(tmp / "cli.sock")
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_echo, args=(server_path, ready))
    proc.start()
    ready.wait(10)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(client_path)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        sock.sendto(b"x", server_path)
        sock.recv(64)
        samples.append((time.perf_counter() - started) / 2)
    sock.sendto(b"stop", server_path)
    proc.join(10)
    sock.close()
    ordered = sorted(samples)
    return {
        "one_way_p50_us": round(statistics.median(ordered) * 1e6, 1),
        "one_way_p95_us": round(ordered[int(0.95 * len(ordered))] * 1e6, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            "load_average": os.getloadavg()[0],
            **signals(Path(tmp)),
            "unix_socket": unix_socket(Path(tmp)),
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"machine load average {result['load_average']:.2f}")
    print("| signal | cost per check | commits missed |")
    print("|---|---:|---:|")
    missed = result["missed_commits"]
    n = result["commits"]
    print(
        f"| PRAGMA data_version | {result['data_version_check_us']} µs | "
        f"{missed['data_version']} of {n} |"
    )
    print(f"| os.stat(-wal) | {result['wal_stat_check_us']} µs | {missed['wal_stat']} of {n} |")
    sock = result["unix_socket"]
    print(
        f"| unix datagram push | one-way p50 {sock['one_way_p50_us']} µs, "
        f"p95 {sock['one_way_p95_us']} µs | – |"
    )


if __name__ == "__main__":
    main()
