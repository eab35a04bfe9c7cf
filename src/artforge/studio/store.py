"""The workspace's database: jobs and ratings in SQLite, safe under concurrent requests.

Each call opens its own connection (SQLite connections are not shared across threads), in WAL mode with
a busy timeout, and writes in one transaction, so 20 requests rating at once lose nothing. A job is a
command of the commands layer and its options, run later by a worker process; its status moves
queued -> running -> finished / failed / cancelled / interrupted. When the store is opened (a server
start), jobs still marked running belonged to a worker that is gone: they become "interrupted", kept
with their options, so they can be resumed, never lost.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    options TEXT NOT NULL,          -- JSON, the command's options by name
    status TEXT NOT NULL,
    position REAL NOT NULL,         -- queue order (reordering moves it between two others)
    created REAL NOT NULL, started REAL, finished REAL,
    result TEXT, error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    job_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, step INTEGER, fields TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE TABLE IF NOT EXISTS ratings (
    output TEXT PRIMARY KEY,        -- a workspace-relative path
    stars INTEGER CHECK (stars BETWEEN 1 AND 5),
    tags TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL
);
"""
STATUSES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class Job:
    id: int
    command: str
    options: dict
    status: str
    created: float
    started: float | None
    finished: float | None
    result: dict | None
    error: str | None


class Store:
    def __init__(self, path: str | Path, recover: bool = True):
        """``recover``: this is a server start (a worker process opens the store with False)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.executescript(SCHEMA)  # its own transaction: executescript commits what came before it
        finally:
            db.close()
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            if recover:  # a server start: a job marked running has no worker any more
                db.execute("UPDATE jobs SET status = 'interrupted', finished = ? WHERE status = 'running'",
                           (time.time(),))

    @contextmanager
    def _connect(self):
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # ------------------------------------------------------------------ jobs

    def add_job(self, command: str, options: dict) -> int:
        with self._connect() as db:
            last = db.execute("SELECT COALESCE(MAX(position), 0) FROM jobs").fetchone()[0]
            cur = db.execute("INSERT INTO jobs (command, options, status, position, created) VALUES (?, ?, 'queued', ?, ?)",
                             (command, json.dumps(options), last + 1, time.time()))
            return int(cur.lastrowid)

    def next_job(self) -> Job | None:
        """The first queued job, marked running (one worker takes it, however many ask at once)."""
        with self._connect() as db:
            row = db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY position LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET status = 'running', started = ? WHERE id = ?", (time.time(), row[0]))
        return self.job(row[0])

    def finish_job(self, job_id: int, status: str, result: dict | None = None, error: str | None = None) -> None:
        if status not in STATUSES[2:]:
            raise ValueError(f"a job ends as one of {', '.join(STATUSES[2:])}, not {status!r}")
        with self._connect() as db:
            db.execute("UPDATE jobs SET status = ?, finished = ?, result = ?, error = ? WHERE id = ?",
                       (status, time.time(), json.dumps(result) if result is not None else None, error, job_id))

    def request_cancel(self, job_id: int) -> str:
        """Cancel a queued job at once; ask a running one's worker to stop cleanly. Returns the status."""
        with self._connect() as db:
            db.execute("UPDATE jobs SET status = 'cancelled', finished = ? WHERE id = ? AND status = 'queued'",
                       (time.time(), job_id))
            db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'", (job_id,))
        return self.job(job_id).status

    def cancel_requested(self, job_id: int) -> bool:
        with self._connect() as db:
            return bool(db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])

    def add_event(self, job_id: int, kind: str, step: int | None, fields: dict) -> None:
        with self._connect() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE job_id = ?", (job_id,)).fetchone()[0]
            db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", (job_id, seq, kind, step, json.dumps(fields)))

    def events(self, job_id: int, after: int = 0) -> list[dict]:
        """A job's events after sequence number ``after`` (what a page polling or streaming has not seen)."""
        with self._connect() as db:
            rows = db.execute("SELECT seq, kind, step, fields FROM events WHERE job_id = ? AND seq > ? ORDER BY seq",
                              (job_id, after)).fetchall()
        return [{"seq": r[0], "kind": r[1], "step": r[2], "fields": json.loads(r[3])} for r in rows]

    def move_job(self, job_id: int, before: int | None) -> None:
        """Put a queued job just before another (``None``: last)."""
        with self._connect() as db:
            if before is None:
                position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs").fetchone()[0]
            else:
                target = db.execute("SELECT position FROM jobs WHERE id = ?", (before,)).fetchone()[0]
                previous = db.execute("SELECT COALESCE(MAX(position), ? - 1) FROM jobs WHERE position < ?",
                                      (target, target)).fetchone()[0]
                position = (previous + target) / 2
            db.execute("UPDATE jobs SET position = ? WHERE id = ? AND status = 'queued'", (position, job_id))

    def job(self, job_id: int) -> Job:
        with self._connect() as db:
            row = db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return _job(row)

    def jobs(self) -> list[Job]:
        """Every job in queue order (one query)."""
        with self._connect() as db:
            return [_job(row) for row in db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY position")]

    # ------------------------------------------------------------------ ratings

    def rate(self, output: str, stars: int | None = None, tags: list[str] | None = None,
             notes: str | None = None) -> None:
        """Set what is given of an output's rating, keeping the rest."""
        if stars is not None and (isinstance(stars, bool) or stars not in range(1, 6)):
            raise ValueError(f"stars must be 1 to 5, got {stars!r}")
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO ratings (output, updated) VALUES (?, ?)", (output, time.time()))
            if stars is not None:
                db.execute("UPDATE ratings SET stars = ? WHERE output = ?", (stars, output))
            if tags is not None:
                db.execute("UPDATE ratings SET tags = ? WHERE output = ?", (json.dumps(sorted(set(tags))), output))
            if notes is not None:
                db.execute("UPDATE ratings SET notes = ? WHERE output = ?", (notes, output))
            db.execute("UPDATE ratings SET updated = ? WHERE output = ?", (time.time(), output))

    def ratings(self) -> dict[str, dict]:
        with self._connect() as db:
            rows = db.execute("SELECT output, stars, tags, notes FROM ratings ORDER BY output").fetchall()
        return {r[0]: {"stars": r[1], "tags": json.loads(r[2]), "notes": r[3]} for r in rows}


_JOB_COLUMNS = "id, command, options, status, created, started, finished, result, error"


def _job(row) -> Job:
    return Job(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6],
               json.loads(row[7]) if row[7] else None, row[8])
