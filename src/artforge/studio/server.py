"""The studio's HTTP API over the workspace, the store and the commands layer (FastAPI).

Every request passes ``guard.Guard`` first (Host, Origin, token), every path goes through
``Workspace.resolve``, and every error is one JSON line with its fix (``{"error": ...}``), never a
stack trace; the server's log keeps the detail. Jobs are only queued here: ``worker.py`` runs them in
other processes. The pages (issue 39) will be served from the package beside this API.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import ArtforgeError
from ..extras import need
from .guard import Guard
from .store import Store
from .workspace import Workspace

log = logging.getLogger("artforge.studio")
TOKEN_HEADER = "x-artforge-token"


def create_app(workspace: str | Path, guard: Guard):
    """The ASGI app for ``workspace`` (created if missing), answering only what ``guard`` allows."""
    need(("studio",), "artforge studio")
    from fastapi import Body, FastAPI, Request
    from fastapi.responses import FileResponse, JSONResponse

    from .. import commands

    space = Workspace(workspace)
    space.root.mkdir(parents=True, exist_ok=True)
    store = Store(space.root / "studio.db")
    app = FastAPI(title="artforge studio", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def check(request: Request, call_next):
        token = request.headers.get(TOKEN_HEADER) or request.query_params.get("token")
        refusal = guard.check(request.headers.get("host"), request.headers.get("origin"), token)
        if refusal is not None:
            log.warning("refused %s %s: %s", request.method, request.url.path, refusal.message)
            return JSONResponse({"error": refusal.message}, status_code=refusal.status)
        return await call_next(request)

    @app.exception_handler(ArtforgeError)
    async def one_line(request: Request, exc: ArtforgeError):
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.get("/api/jobs")
    def jobs():
        return [_job(j) for j in store.jobs()]

    @app.post("/api/jobs")
    def queue(command: str = Body(...), options: dict = Body(default_factory=dict)):
        if command not in commands.COMMANDS:
            raise ArtforgeError(f"unknown command {command!r}", f"use one of: {', '.join(commands.COMMANDS)}")
        return _job(store.job(store.add_job(command, options)))

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: int):
        return {"status": store.request_cancel(job_id)}

    @app.get("/api/jobs/{job_id}/events")
    def events(job_id: int, after: int = 0):
        return store.events(job_id, after)

    @app.get("/api/options/{command}")
    def options(command: str, task: str = "generation", arch: str = "dcgan"):
        """A command's form: its options as data (a train run's by part, for its task and family)."""
        return describe_command(command, task, arch)

    @app.post("/api/check/{command}")
    def check_options(command: str, options: dict = Body(default_factory=dict)):
        """The CLI's checks on a form's values: {"ok": true}, or the CLI's own one line (400)."""
        build_options(command, options)
        return {"ok": True}

    @app.get("/api/ratings")
    def ratings():
        return store.ratings()

    @app.put("/api/ratings")
    def rate(output: str = Body(...), stars: int | None = Body(None), tags: list[str] | None = Body(None),
             notes: str | None = Body(None)):
        path = space.resolve(output)
        if not path.is_file():
            raise ArtforgeError(f"{output} is not a file of the workspace", "rate an output the studio lists")
        try:
            store.rate(space.relative(path), stars, tags, notes)
        except ValueError as exc:
            raise ArtforgeError(str(exc), "pass stars from 1 to 5") from None
        return store.ratings()[space.relative(path)]

    @app.get("/files/{relative:path}")
    def files(relative: str):
        path = space.resolve(relative)
        if not path.is_file():
            return JSONResponse({"error": f"{relative} is not a file of the workspace"}, status_code=404)
        return FileResponse(path)

    return app


def describe_command(command: str, task: str, arch: str) -> list[dict]:
    from ..options import COMMAND_OPTIONS
    from ..options.describe import describe, train_parts
    from ..options.families import FAMILY_OPTIONS
    from ..options.train import TASK_OPTIONS

    if command == "train":
        if task not in TASK_OPTIONS or arch not in FAMILY_OPTIONS:
            raise ArtforgeError(f"unknown task {task!r} or family {arch!r}",
                                f"use a task of {', '.join(TASK_OPTIONS)} and a family of {', '.join(FAMILY_OPTIONS)}")
        return [row for label, cls in train_parts(task, arch) for row in describe(cls, label)]
    if command not in COMMAND_OPTIONS:
        raise ArtforgeError(f"no form for {command!r}", f"use one of: {', '.join(COMMAND_OPTIONS)}")
    return describe(COMMAND_OPTIONS[command])


def build_options(command: str, options: dict):
    """The command's options object from a form's values, with the CLI's checks and messages."""
    from ..options import COMMAND_OPTIONS
    from ..options.train import foreign_option

    if command not in COMMAND_OPTIONS:
        raise ArtforgeError(f"no form for {command!r}", f"use one of: {', '.join(COMMAND_OPTIONS)}")
    try:
        built = COMMAND_OPTIONS[command](**options)
    except TypeError as exc:  # a field the command does not have
        raise ArtforgeError(f"{command} has no such option ({exc})", f"see 'artforge {command} --help'") from None
    if command == "train":
        foreign = foreign_option(built.task, built.arch, options)
        if foreign:
            raise foreign
    return built


def _job(job) -> dict:
    return {"id": job.id, "command": job.command, "options": job.options, "status": job.status,
            "created": job.created, "started": job.started, "finished": job.finished, "result": job.result,
            "error": job.error}
