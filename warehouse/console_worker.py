"""One console worker process: ``python -m warehouse.console_worker MEMORY_MB``.

Started by :mod:`warehouse.console_pool`. It caps its own address space, then answers
queries read from stdin until stdin closes. Messages are frames of an 8-byte big-endian
length and a body: a request is JSON (the arguments of :func:`warehouse.console.run_query`);
an answer is a JSON header (problem, detail, truncated, elapsed) followed, when the query
gave rows, by a frame holding them as Arrow IPC. No pickle crosses the pipe: whatever a
query does in here, the dashboard only ever parses JSON and Arrow.
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys
from typing import Any, BinaryIO

# Imported before the address space is measured and capped: every query needs them.
from warehouse.console import QueryResult, run_query

LENGTH_BYTES = 8


def write_frame(stream: BinaryIO, body: bytes) -> None:
    """Write one length-prefixed frame and flush it."""
    stream.write(len(body).to_bytes(LENGTH_BYTES, "big"))
    stream.write(body)
    stream.flush()


def read_frame(stream: BinaryIO) -> bytes | None:
    """Read one length-prefixed frame; None at the end of the stream."""
    head = stream.read(LENGTH_BYTES)
    if len(head) < LENGTH_BYTES:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    return body


def vm_bytes() -> int:
    """The virtual memory size of the calling process (what RLIMIT_AS counts)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _answer(request: dict[str, Any], memory_mb: float) -> QueryResult:
    """Run one request; every failure becomes a problem the analyst can read."""
    try:
        return run_query(**request)
    except MemoryError:
        return QueryResult(None, problem="memory", detail=f"{memory_mb:g}")
    except RecursionError:
        return QueryResult(None, problem="nested", detail="")
    except Exception as error:
        return QueryResult(None, problem="failed", detail=str(error))


def _send(out: BinaryIO, result: QueryResult) -> None:
    """The header, then the rows as Arrow IPC when there are any."""
    header = {
        "problem": result.problem,
        "detail": result.detail,
        "truncated": result.truncated,
        "elapsed_s": result.elapsed_s,
        "rows": result.frame is not None,
    }
    write_frame(out, json.dumps(header).encode("utf-8"))
    if result.frame is not None:
        buffer = io.BytesIO()
        result.frame.write_ipc(buffer)
        write_frame(out, buffer.getvalue())


def main() -> None:
    """Cap the address space, say ready, then serve requests until stdin closes."""
    memory_mb = float(sys.argv[1])
    limit = vm_bytes() + int(memory_mb * 2**20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames on the pipe
    write_frame(stdout, json.dumps({"ready": os.getpid()}).encode("utf-8"))
    while (body := read_frame(stdin)) is not None:
        try:
            result = _answer(json.loads(body), memory_mb)
            _send(stdout, result)
        except MemoryError:
            _send(stdout, QueryResult(None, problem="memory", detail=f"{memory_mb:g}"))


if __name__ == "__main__":
    main()
