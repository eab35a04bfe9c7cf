"""Jobs run one after another, each in a worker process, never in the web server's process.

``Worker.run_next()`` takes the first queued job from the store and runs it in a fresh process
(``spawn``: no state shared with the server) through the commands layer, exactly as the CLI and the
API do. The child writes the command's events to the store as they come, polls the store for a cancel
request (``Store.request_cancel``) and turns it into the command's ``CancelToken``: a training run then
saves a checkpoint and ends "interrupted", resumable; prepare and evaluate end "cancelled" with nothing
half-written. A worker process that dies without saying how its job ended leaves it "failed" with the
exit code, and a server restart finds a job still marked running "interrupted" (store.py).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import threading
from pathlib import Path

from .store import Store

POLL_SECONDS = 0.5  # how often a running job looks for a cancel request
log = logging.getLogger("artforge.studio")


def _jsonable(result) -> dict:
    """A command's result as JSON (dataclasses by field; paths and other objects as text)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if not isinstance(result, dict):
        result = {"value": result}
    return json.loads(json.dumps(result, default=str))


def run_job(db_path: str, job_id: int) -> None:
    """The worker process's body: one job, start to end, its events and its end written to the store."""
    from .. import commands
    from ..errors import ArtforgeError
    from ..utils.events import CancelToken, Cancelled

    store = Store(db_path, recover=False)
    job = store.job(job_id)
    cancel, done = CancelToken(), threading.Event()

    def watch() -> None:  # a cancel request from the server, seen within POLL_SECONDS
        while not done.wait(POLL_SECONDS):
            if store.cancel_requested(job_id):
                cancel.cancel()
                return

    threading.Thread(target=watch, daemon=True).start()
    try:
        result = commands.run(job.command, dict(job.options),
                              events=lambda e: store.add_event(job_id, e.kind, e.step, e.fields), cancel=cancel)
        status = "interrupted" if getattr(result, "status", None) == "interrupted" else "finished"
        store.finish_job(job_id, status, result=_jsonable(result))
    except Cancelled as exc:
        store.finish_job(job_id, "cancelled", error=str(exc))
    except ArtforgeError as exc:  # the one line the page shows: what went wrong and the fix
        store.finish_job(job_id, "failed", error=str(exc))
    except Exception as exc:  # the page gets one line; the server's log keeps the traceback
        log.exception("job %s (%s) failed", job_id, job.command)
        store.finish_job(job_id, "failed", error=f"internal error ({type(exc).__name__}: {exc}); see the studio log")
    finally:
        done.set()


class Worker:
    """Runs the store's queued jobs, one at a time, each in its own process."""

    def __init__(self, db_path: str | Path):
        self.db_path = str(db_path)
        self.store = Store(db_path, recover=False)
        self.context = multiprocessing.get_context("spawn")

    def run_next(self) -> int | None:
        """Run the first queued job to its end; its id, or None when the queue is empty."""
        job = self.store.next_job()
        if job is None:
            return None
        process = self.context.Process(target=run_job, args=(self.db_path, job.id), name=f"artforge-job-{job.id}")
        process.start()
        process.join()
        if self.store.job(job.id).status == "running":  # the process died before it could say
            self.store.finish_job(job.id, "failed", error=f"the worker process exited with code {process.exitcode} "
                                  "before the job ended; run it again")
        return job.id
