"""``artforge studio [WORKSPACE]``: the server and its worker, started together.

Binds 127.0.0.1 unless told otherwise; any other address needs a token on every request, made here
and printed when none is given. Prints the URL and opens nothing. The worker runs in a thread of this
process that only starts worker processes (each job runs in its own, worker.py), so the web server's
process never runs a job itself.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..extras import need
from .guard import Guard, is_loopback, new_token
from .worker import Worker

IDLE_SECONDS = 1.0  # how often an empty queue is looked at again


def _work(db_path: Path, stop: threading.Event) -> None:
    worker = Worker(db_path)
    while not stop.is_set():
        if worker.run_next() is None:
            stop.wait(IDLE_SECONDS)


def serve(workspace: str | Path = "studio", host: str = "127.0.0.1", port: int = 7860, token: str | None = None,
          say=print) -> None:
    """Serve the studio for ``workspace`` until interrupted."""
    need(("studio",), "artforge studio")
    import uvicorn

    from .server import create_app

    if not is_loopback(host) and not token:
        token = new_token()
    guard = Guard(host, port, token)
    app = create_app(workspace, guard)  # makes the workspace and its database (a server start: recovers jobs)
    stop = threading.Event()
    threading.Thread(target=_work, args=(Path(workspace).expanduser().resolve() / "studio.db", stop),
                     name="artforge-studio-worker", daemon=True).start()
    shown = f"[{host}]" if ":" in host else host
    say(f"artforge studio: http://{shown}:{port}/" + (f"?token={token}" if token else "")
        + f"  (workspace {Path(workspace).expanduser().resolve()}; Ctrl-C stops it)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        stop.set()  # the worker thread ends after its current job's process
