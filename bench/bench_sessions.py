"""Benchmark: what a new visitor's first page costs the server, 1, 10 and 20 at once.

Runs the real server (``rccdash serve``: Streamlit behind the sign-in gate) on a copy of
the demo warehouse (24 outlets x 12 months, ~4M service events) with its own account store
of 20 chairman accounts, and opens /overview?month=2026-09 from N visitors at the same
moment. Each visitor is a thread with a websocket client, not a browser, so the client
costs little CPU next to the server:

1. signs in over HTTP (POST /signin -> session cookie) before the timed part (sign-in is
   argon2, not the page);
2. at the start signal opens /_stcore/stream with the cookie and asks for a script run of
   the page the browser would ask for on /overview?month=2026-09 (``rerun_script`` with
   ``page_name="overview"`` and that query string, as Streamlit's frontend does for a
   page address);
3. waits for the run of the overview page to finish (``script_finished``), checks it
   drew the overview (its headline cards) and no error or exception, and closes.

Per wave: server CPU (utime + stime of the Streamlit process, from /proc) over the wave
divided by the visitors, and each visitor's time from opening the websocket to the end of
the page's run (p50 / p95 / max), with the errors seen.

- cold = the first wave after a server start (empty data cache, views not yet imported;
  the warehouse file is in the OS page cache since it was just copied). The server is
  restarted before the cold wave of each N.
- cached = ``--repeat`` later waves of N NEW sessions on the same server (data cache
  warm); medians over the waves.

Targets (issue): server CPU per new session on a cached view under 0.15 s; 20 visitors
at once all served, none shown an error, p95 under 3 s (cached waves; the cold wave's
p95 is shown beside it).

Usage: ``python bench/bench_sessions.py [--db WAREHOUSE] [--repeat 3] [--visitors 1,10,20]``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
PAGE, QUERY = "overview", "month=2026-09"
PAGE_MARK = "Served within target wait"  # a headline card of the overview (English labels)
PASSWORD = "bench-password-1"
ACCOUNTS = 20
TARGET_CPU_S, TARGET_P95_S, TARGET_VISITORS = 0.15, 3.0, 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the server ---------------------------------------------------------------------------


def _prepare(db: Path, folder: Path) -> Path:
    """A copy of the warehouse in ``folder`` with an account store of bench accounts."""
    from access.roles import Account, Role
    from access.settings import AccessSettings
    from access.store import AccessStore

    copy = folder / "warehouse.duckdb"
    shutil.copy(db, copy)
    cheap = AccessSettings(hash_time_cost=1, hash_memory_kib=8192, hash_parallelism=1)
    store = AccessStore(folder / "access.sqlite", cheap)
    for i in range(1, ACCOUNTS + 1):
        account = Account(f"bench{i:02d}", f"Bench {i:02d}", frozenset({Role.CHAIRMAN}))
        store.add_user(account, PASSWORD, by="bench", must_change=False)
    return copy


def _free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; fields from 3
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime (14), stime (15)


def _rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """``rccdash serve`` on ``db`` in its own process group; the Streamlit child's pid."""

    def __init__(self, db: Path, ready_timeout_s: float = 180.0) -> None:
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("RCCDASH_ACCESS", "RCCDASH_DB")}
        env["COLUMNS"] = "200"  # rich must not wrap the "Ready:" line
        command = [sys.executable, "-m", "rccdash.cli", "serve", "--db", str(db)]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a process group of its own, killed as one
        )
        self.output: deque[str] = deque(maxlen=60)
        self._ready = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        try:
            deadline = time.monotonic() + ready_timeout_s
            while not self._ready.wait(0.2):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    tail = "".join(self.output)
                    raise RuntimeError(f"rccdash serve did not get ready:\n{tail}")
            self.pid = self._streamlit_pid()
        except BaseException:
            self.stop()
            raise

    def _drain(self) -> None:
        """Keep the server's output flowing (a full pipe would block it); spot "Ready:"."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("Ready:"):
                self._ready.set()

    def _streamlit_pid(self) -> int:
        """The Streamlit process: the child of ``rccdash serve``."""
        children = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children += (task / "children").read_text().split()
        if len(children) != 1:
            raise RuntimeError(f"expected one Streamlit child of rccdash serve, got {children}")
        return int(children[0])

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after 15 s."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):  # a straggler of the group
            os.killpg(self.process.pid, signal.SIGKILL)


def start_server(db: Path) -> Server:
    """A fresh server; a second try on another port if the first did not get ready."""
    try:
        return Server(db)
    except RuntimeError as failure:
        print(f"server start failed, trying once more: {failure}", file=sys.stderr)
        return Server(db)


# -- a visitor ----------------------------------------------------------------------------


def sign_in(port: int, username: str) -> str:
    """Sign in over HTTP as a browser's form would; the session token."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        form = {"username": username, "password": PASSWORD, "next": f"/{PAGE}?{QUERY}"}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", "/signin", urlencode(form), headers)
        response = connection.getresponse()
        response.read()
        cookie = response.getheader("Set-Cookie") or ""
        if response.status != 303 or not cookie.startswith("rccdash_session="):
            raise RuntimeError(f"sign-in of {username} failed: HTTP {response.status}")
        return cookie.split(";", 1)[0].split("=", 1)[1]
    finally:
        connection.close()


@dataclass
class Visit:
    """What one visitor saw."""

    wall_s: float | None = None  # websocket opened -> the overview's run finished
    served: bool = False  # the overview's run finished and drew its headline cards
    errors: list[str] = field(default_factory=list)
    runs: int = 0  # script runs the server started for this visitor
    messages: int = 0
    kbytes: float = 0.0


def visit(port: int, token: str, start: threading.Barrier, timeout_s: float) -> Visit:
    """Open the overview page as a new session and wait until its run finished."""
    request = BackMsg()
    state = request.rerun_script
    state.query_string = QUERY
    state.page_name = PAGE  # the address /overview; the hash is unknown to a new browser
    state.context_info.timezone = "Asia/Shanghai"
    state.context_info.timezone_offset = -480
    state.context_info.locale = "en-US"
    state.context_info.url = f"http://127.0.0.1:{port}/{PAGE}?{QUERY}"
    result = Visit()
    start.wait(timeout=120)
    started = time.perf_counter()
    deadline = started + timeout_s
    page_hash = current_hash = ""
    drew_page = False
    try:
        with connect(
            f"ws://127.0.0.1:{port}/_stcore/stream",
            subprotocols=["streamlit"],
            additional_headers={"Cookie": f"rccdash_session={token}"},
            open_timeout=timeout_s,
            max_size=None,
        ) as ws:
            ws.send(request.SerializeToString())
            while (left := deadline - time.perf_counter()) > 0:
                raw = ws.recv(timeout=left)
                result.messages += 1
                result.kbytes += len(raw) / 1024
                message = ForwardMsg()
                message.ParseFromString(raw)
                kind = message.WhichOneof("type")
                if kind == "new_session":  # sent at the start of every run
                    result.runs += 1
                    drew_page = False
                elif kind == "navigation":
                    current_hash = message.navigation.page_script_hash
                    for page in message.navigation.app_pages:
                        if page.url_pathname == PAGE:
                            page_hash = page.page_script_hash
                elif kind == "page_not_found":
                    result.errors.append("page not found")
                elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                    element = message.delta.new_element
                    shown = element.WhichOneof("type")
                    if shown == "exception":
                        result.errors.append(f"exception: {element.exception.message[:200]}")
                    elif shown == "alert" and element.alert.format == Alert.ERROR:
                        result.errors.append(f"error: {element.alert.body[:200]}")
                    elif shown == "metric" and PAGE_MARK in element.metric.label:
                        drew_page = True
                elif kind == "script_finished":
                    status = message.script_finished
                    if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue  # e.g. a switch_page: the page's own run comes next
                    if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                        result.errors.append(
                            f"run ended {ForwardMsg.ScriptFinishedStatus.Name(status)}"
                        )
                    elif not page_hash or current_hash != page_hash:
                        result.errors.append("the run finished on another page")
                    elif not drew_page:
                        result.errors.append("the overview's headline cards were not drawn")
                    result.wall_s = time.perf_counter() - started
                    result.served = not result.errors
                    return result
            result.errors.append(f"no finished run within {timeout_s:.0f} s")
    except TimeoutError:
        result.errors.append(f"no finished run within {timeout_s:.0f} s")
    except Exception as failure:  # refused websocket, closed connection, ...
        result.errors.append(f"{type(failure).__name__}: {failure}")
    return result


# -- a wave -------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) with linear interpolation; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def wave(server: Server, visitors: int, kind: str, timeout_s: float) -> dict:
    """N new visitors open the overview at once; server CPU and their times."""
    tokens = [sign_in(server.port, f"bench{i % ACCOUNTS + 1:02d}") for i in range(visitors)]
    time.sleep(0.5)  # the sign-ins' audit writes are done; the server is idle
    start = threading.Barrier(visitors + 1)
    visits: list[Visit | None] = [None] * visitors

    def run(i: int) -> None:
        visits[i] = visit(server.port, tokens[i], start, timeout_s)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(visitors)]
    for thread in threads:
        thread.start()
    cpu_before = _cpu_s(server.pid)
    client_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    start.wait(timeout=120)
    for thread in threads:
        thread.join(timeout_s + 30)
    elapsed = time.perf_counter() - started
    time.sleep(1.0)  # let the server close the sessions (part of their cost)
    cpu = _cpu_s(server.pid) - cpu_before
    client_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (client_after.ru_utime - client_before.ru_utime) + (
        client_after.ru_stime - client_before.ru_stime
    )
    done = [v if v is not None else Visit(errors=["visitor thread hung"]) for v in visits]
    walls = [v.wall_s for v in done if v.wall_s is not None]
    errors = [e for v in done for e in v.errors]
    return {
        "kind": kind,
        "visitors": visitors,
        "served": sum(v.served for v in done),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "cpu_s": round(cpu, 3),
        "cpu_per_session_s": round(cpu / visitors, 3),
        "client_cpu_s": round(client_cpu, 3),
        "wall_p50_s": _round(_percentile(walls, 0.50)),
        "wall_p95_s": _round(_percentile(walls, 0.95)),
        "wall_max_s": _round(max(walls, default=None)),
        "wave_s": round(elapsed, 3),
        "server_rss_mb": round(_rss_mb(server.pid), 1),
        "runs_per_visit": _round(statistics.mean(v.runs for v in done), 2),
        "kbytes_per_visit": _round(statistics.mean(v.kbytes for v in done), 1),
        "visits": [asdict(v) | {"wall_s": _round(v.wall_s)} for v in done],
    }


def _summary(waves: list[dict], visitors: int, kind: str) -> dict:
    """One table row: the wave (cold) or the median over the waves (cached)."""
    chosen = [w for w in waves if w["visitors"] == visitors and w["kind"] == kind]
    row: dict = {"visitors": visitors, "kind": kind, "waves": len(chosen)}
    for key in ("cpu_s", "cpu_per_session_s", "wall_p50_s", "wall_p95_s", "wall_max_s"):
        values = [w[key] for w in chosen if w[key] is not None]
        row[key] = _round(statistics.median(values)) if values else None
    row["served"] = min(w["served"] for w in chosen)
    row["errors"] = sum(w["errors"] for w in chosen)
    return row


def _fmt(value: float | None, width: int = 7, digits: int = 2) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.{digits}f}"


def main() -> dict:
    """Run the waves and print a table; results also go to bench/results/."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "warehouse.duckdb")
    parser.add_argument("--repeat", type=int, default=3, help="cached waves per N")
    parser.add_argument("--visitors", default="1,10,20", help="comma-separated N")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per visitor")
    args, _ = parser.parse_known_args()
    sizes = [int(n) for n in args.visitors.split(",")]
    if not args.db.exists():
        rccdash = [sys.executable, "-m", "rccdash.cli"]
        subprocess.run([*rccdash, "demo", "--no-serve", "--db", str(args.db)], check=True)
    waves: list[dict] = []
    idle: list[float] = []
    with tempfile.TemporaryDirectory(prefix="rccdash-bench-sessions-") as folder:
        db = _prepare(args.db, Path(folder))
        for visitors in sizes:
            server = start_server(db)  # a fresh server: the first wave is cold
            try:
                before = _cpu_s(server.pid)
                time.sleep(2.0)
                idle.append((_cpu_s(server.pid) - before) / 2.0)
                waves.append(wave(server, visitors, "cold", args.timeout))
                for _ in range(args.repeat):
                    waves.append(wave(server, visitors, "cached", args.timeout))
            finally:
                server.stop()
    rows = [_summary(waves, n, kind) for n in sizes for kind in ("cold", "cached")]
    cached = [r for r in rows if r["kind"] == "cached" and r["cpu_per_session_s"] is not None]
    crowd = [w for w in waves if w["visitors"] == TARGET_VISITORS]
    crowd_cached = [r for r in rows if r["visitors"] == TARGET_VISITORS and r["kind"] == "cached"]
    worst_cpu = max((r["cpu_per_session_s"] for r in cached), default=None)
    p95 = crowd_cached[0]["wall_p95_s"] if crowd_cached else None
    targets = {
        "cached_cpu_per_session_s": worst_cpu,
        "cpu_ok": worst_cpu is not None and worst_cpu < TARGET_CPU_S,
        "crowd_all_served": bool(crowd) and all(w["served"] == w["visitors"] for w in crowd),
        "crowd_errors": sum(w["errors"] for w in crowd),
        "crowd_cached_p95_s": p95,
        "crowd_p95_ok": p95 is not None and p95 < TARGET_P95_S,
    }
    targets["crowd_ok"] = (
        targets["crowd_all_served"] and targets["crowd_errors"] == 0 and targets["crowd_p95_ok"]
    )
    result = {
        "warehouse": str(args.db),
        "page": f"/{PAGE}?{QUERY}",
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "server_idle_cpu_s_per_s": round(statistics.mean(idle), 4) if idle else None,
        "summary": rows,
        "targets": targets,
        "waves": waves,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"sessions-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))

    print(f"/{PAGE}?{QUERY}, new sessions at once; cold = first wave after a server start,")
    print(f"cached = median of {args.repeat} later waves; wall = websocket open -> run finished")
    print(
        f"{'visitors':>8} {'kind':6} {'CPU s':>7} {'CPU/sess':>8} {'p50 s':>7} {'p95 s':>7}"
        f" {'max s':>7} {'served':>7} {'errors':>6}"
    )
    for r in rows:
        print(
            f"{r['visitors']:8d} {r['kind']:6} {_fmt(r['cpu_s'])}"
            f" {_fmt(r['cpu_per_session_s'], 8, 3)}"
            f" {_fmt(r['wall_p50_s'])} {_fmt(r['wall_p95_s'])} {_fmt(r['wall_max_s'])}"
            f" {r['served']:3d}/{r['visitors']:<3d} {r['errors']:6d}"
        )
    for w in waves:
        for sample in w["error_samples"]:
            print(f"  {w['visitors']} {w['kind']}: {sample}")
    print(f"server idle CPU: {result['server_idle_cpu_s_per_s']} s/s; {os.cpu_count()} CPUs")
    verdict = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    print(
        f"target: cached CPU per new session < {TARGET_CPU_S} s"
        f" (worst N: {_fmt(worst_cpu, 0, 3)} s) -> {verdict(targets['cpu_ok'])}"
    )
    print(
        f"target: {TARGET_VISITORS} visitors at once all served, 0 errors, cached p95"
        f" < {TARGET_P95_S:.0f} s (p95 {_fmt(p95, 0)} s, errors {targets['crowd_errors']})"
        f" -> {verdict(targets['crowd_ok'])}"
    )
    print(f"-> {out.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    main()
