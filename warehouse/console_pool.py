"""The SQL console's queries run in worker processes of their own, never in the dashboard's.

Why: inside one process nothing stops a query for sure. DuckDB's interrupt and memory
limit do not reach work on a single row (``len(range(60000000))`` ran 24 s past a 5 s
limit and took 3.7 GB under a 64 MB limit), and parsing a deeply nested expression can
exhaust a stack. In a worker process each ends at a boundary kept from outside: a query
still running at its time limit is ended by killing its worker, which is then replaced;
while it runs, the pool watches the worker's resident memory and kills it past
``worker_memory_mb``; and the worker's address space is capped (``RLIMIT_AS``, set
generously above what DuckDB reserves: it maps far more than it uses) so that even an
allocation faster than the watch fails in the worker. The dashboard only ever receives
the capped result, as JSON and Arrow (:mod:`warehouse.console_worker`).

A pool of workers (``explorer.console.workers``, default 2) lets one analyst's stuck
query leave the others a worker; a query waits for a free worker at most its own time
limit, then is told the console is busy. Workers are separate programs started with
``python -m``: forking the dashboard's many-threaded process would not be safe, and
multiprocessing's spawn would re-run the dashboard's own script in each child.
"""

from __future__ import annotations

import contextlib
import io
import json
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from warehouse.console import QueryResult
from warehouse.console_worker import read_frame, write_frame
from warehouse.settings import PROJECT_ROOT, load_config

# How long past its own time limit a query's worker is given to answer before it is killed
# (the worker's timer interrupts DuckDB first; this covers what an interrupt cannot stop).
GRACE_S = 1.0
_START_TIMEOUT_S = 60.0
_WATCH_EVERY_S = 0.05  # how often a running query's worker memory is looked at


def _settings() -> dict[str, Any]:
    """The console's section of config/explorer.yaml."""
    return load_config("explorer")["console"]


@dataclass
class _Worker:
    """One worker process and its pipes."""

    process: subprocess.Popen[bytes]

    def resident_mb(self) -> float:
        """The worker's resident memory now (0 when it is gone)."""
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def ready(self, timeout_s: float) -> bool:
        """Whether the worker has written something to read within ``timeout_s``."""
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        return bool(readable)

    def send(self, request: dict[str, Any]) -> None:
        """Hand the worker one request."""
        assert self.process.stdin is not None
        write_frame(self.process.stdin, json.dumps(request).encode("utf-8"))

    def receive(self) -> bytes:
        """The next frame from the worker (EOFError when it died)."""
        assert self.process.stdout is not None
        body = read_frame(self.process.stdout)
        if body is None:
            raise EOFError("the console worker ended")
        return body

    def stop(self) -> None:
        """End the worker at once (a query that overran, or the pool closing)."""
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()


class ConsolePool:
    """Worker processes that run console queries, at most one query each at a time."""

    def __init__(self, size: int | None = None, memory_mb: float | None = None) -> None:
        settings = _settings()
        self.size = int(size if size is not None else settings["workers"])
        self.memory_mb = float(memory_mb if memory_mb is not None else settings["worker_memory_mb"])
        self.address_mb = float(settings["worker_address_space_mb"])
        self.peak_mb = 0.0  # the most a worker held while a query ran (diagnostics, tests)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.started = 0  # workers ever started (a killed one is replaced)
        for _ in range(self.size):
            self._idle.put(self._start())

    def _start(self) -> _Worker:
        """Start one worker and wait until it has capped itself and says it is ready."""
        process = subprocess.Popen(
            [sys.executable, "-m", "warehouse.console_worker", f"{self.address_mb:g}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
        )
        worker = _Worker(process)
        if not worker.ready(_START_TIMEOUT_S):
            worker.stop()
            raise RuntimeError("a console worker did not start")
        worker.receive()  # {"ready": pid}
        with self._lock:
            self.started += 1
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and put a fresh one in its place (in the background)."""
        worker.stop()

        def start() -> None:
            if not self._closed:
                self._idle.put(self._start())

        threading.Thread(target=start, daemon=True, name="console-respawn").start()

    def run(
        self,
        db_path: str | Path,
        sql: str,
        *,
        row_cap: int,
        time_limit_s: float,
        hidden: Mapping[str, Sequence[str]] | None = None,
    ) -> QueryResult:
        """Run one query in a worker; never raises for what the query does.

        The worker's own timer stops most queries at ``time_limit_s``; one still running
        :data:`GRACE_S` later is killed with its worker. A worker that dies (an
        allocation past its cap the query could not survive) gives a message, not a crash.
        """
        started = time.perf_counter()
        try:
            worker = self._idle.get(timeout=time_limit_s)
        except queue.Empty:
            return QueryResult(None, problem="busy", detail=f"{time_limit_s:g}")
        request = {
            "db_path": str(db_path),
            "sql": sql,
            "row_cap": row_cap,
            "time_limit_s": time_limit_s,
            "hidden": {k: list(v) for k, v in hidden.items()} if hidden else None,
        }
        try:
            worker.send(request)
            if (problem := self._watch(worker, started + time_limit_s + GRACE_S)) is not None:
                self._replace(worker)
                detail = f"{time_limit_s:g}" if problem == "stopped" else f"{self.memory_mb:g}"
                return QueryResult(
                    None, elapsed_s=time.perf_counter() - started, problem=problem, detail=detail
                )
            header = json.loads(worker.receive())
            frame = pl.read_ipc(io.BytesIO(worker.receive())) if header["rows"] else None
        except (EOFError, OSError, ValueError):
            self._replace(worker)
            return QueryResult(
                None,
                elapsed_s=time.perf_counter() - started,
                problem="memory",
                detail=f"{self.memory_mb:g}",
            )
        self._idle.put(worker)
        return QueryResult(
            frame,
            truncated=bool(header["truncated"]),
            elapsed_s=float(header["elapsed_s"]),
            problem=header["problem"],
            detail=str(header["detail"] or ""),
        )

    def _watch(self, worker: _Worker, deadline: float) -> str | None:
        """Wait for the answer; "stopped" past the deadline, "memory" past the budget."""
        while not worker.ready(_WATCH_EVERY_S):
            held = worker.resident_mb()
            self.peak_mb = max(self.peak_mb, held)
            if held > self.memory_mb:
                return "memory"
            if time.perf_counter() >= deadline:
                return "stopped"
        return None

    def pids(self) -> list[int]:
        """The idle workers' process ids (for tests and diagnostics)."""
        return [w.process.pid for w in list(self._idle.queue)]

    def close(self) -> None:
        """Stop every idle worker (busy ones are stopped when their query returns)."""
        self._closed = True
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            worker.stop()
