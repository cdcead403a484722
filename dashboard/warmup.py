"""Run the app once, headless, right after the server starts.

Streamlit learns the page list only when the entrypoint has run once. Until then, the
first visitor who opens a bookmarked page (``/stars?...``) gets a "Page not found" popup
on top of the right page (streamlit/streamlit#9992). One script run over the app's own
websocket, before anybody visits, registers the pages.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from dashboard.gate import WARMUP_COOKIE


def wait_for_port(port: int, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """True once something listens on localhost:``port``; False after ``timeout_s``.

    ``alive`` says whether the server we started still runs: if it exited (the port was
    taken, say) there is nothing to wait for, and another program's port is not ours.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def warm_up(port: int, secret: str, timeout_s: float = 60.0) -> bool:
    """Open one session on the app at ``port`` and wait for its first run to finish.

    ``secret`` lets this one websocket past the sign-in gate (``dashboard.gate``); the
    run it makes has no account, so it registers the pages and shows nothing else.
    Returns False (without raising) when the run did not finish in time: serving goes on
    either way, a cold start only costs the first visitor the popup.
    """
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    request = BackMsg()
    request.rerun_script.query_string = ""
    request.rerun_script.page_script_hash = ""
    deadline = time.monotonic() + timeout_s
    try:
        with connect(
            url,
            subprotocols=["streamlit"],
            open_timeout=timeout_s,
            additional_headers={"Cookie": f"{WARMUP_COOKIE}={secret}"},
        ) as ws:
            ws.send(request.SerializeToString())
            while (left := deadline - time.monotonic()) > 0:
                message = ForwardMsg()
                message.ParseFromString(ws.recv(timeout=left))
                if message.WhichOneof("type") == "script_finished":
                    return True
    except (OSError, TimeoutError, ValueError):
        return False
    return False
