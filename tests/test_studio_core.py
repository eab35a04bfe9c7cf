"""The studio's core, without a web server: the workspace's path rules, the request guard and the store."""

from __future__ import annotations

import os
from pathlib import Path
import threading

import pytest

from artforge.studio.guard import Guard
from artforge.studio.store import Store
from artforge.studio.workspace import OutsideWorkspace, Workspace, safe_name


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    (root / "runs" / "r1").mkdir(parents=True)
    (root / "runs" / "r1" / "grid.png").write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("outside")
    return Workspace(root)


# ----------------------------------------------------------------------------- workspace

def test_a_plain_relative_path_resolves_inside(workspace):
    assert workspace.resolve("runs/r1/grid.png") == workspace.root / "runs" / "r1" / "grid.png"
    assert workspace.resolve("runs/./r1//grid.png") == workspace.root / "runs" / "r1" / "grid.png"
    assert workspace.resolve("runs%2Fr1%2Fgrid.png") == workspace.root / "runs" / "r1" / "grid.png"
    assert workspace.relative(workspace.resolve("runs/r1")) == "runs/r1"


@pytest.mark.parametrize("path", [
    "../secret.txt",                      # plain
    "runs/../../secret.txt",              # plain, deeper
    "..%2Fsecret.txt",                    # encoded
    "%2e%2e/secret.txt",                  # encoded dots
    "%252e%252e%252fsecret.txt",          # double-encoded
    "%25252e%25252e/secret.txt",          # triple-encoded
    "/etc/passwd",                        # absolute
    "%2Fetc%2Fpasswd",                    # absolute, encoded
    "~/secret.txt",                       # home
    "C:/Windows/win.ini",                 # a drive letter
    "..\\secret.txt",                     # a backslash
    "runs/r1/grid.png\x00.txt",           # NUL
])
def test_every_traversal_form_is_refused(workspace, path):
    with pytest.raises(OutsideWorkspace):
        workspace.resolve(path)


def test_a_symlink_out_of_the_workspace_is_refused(workspace, tmp_path):
    os.symlink(tmp_path / "secret.txt", workspace.root / "link.txt")
    os.symlink(tmp_path, workspace.root / "runs" / "out")
    with pytest.raises(OutsideWorkspace, match="through a link"):
        workspace.resolve("link.txt")
    with pytest.raises(OutsideWorkspace, match="through a link"):
        workspace.resolve("runs/out/secret.txt")
    os.symlink(workspace.root / "runs" / "r1", workspace.root / "inside")  # a link within is fine
    assert workspace.resolve("inside/grid.png") == workspace.root / "runs" / "r1" / "grid.png"


@pytest.mark.parametrize("name, expected", [
    ("cat.png", "cat.png"), ("../../etc/passwd", "passwd"), ("..", "file"), (".hidden", "hidden"),
    ("a<b>:c|d?.png", "a_b_c_d_.png"), ("C:\\Users\\x\\art.jpg", "art.jpg"), ("", "file"), ("ｃａｔ.png", "cat.png"),
])
def test_uploaded_names_are_sanitized(name, expected):
    assert safe_name(name) == expected


# ----------------------------------------------------------------------------- guard

def test_loopback_answers_its_own_host_and_origin_only():
    guard = Guard("127.0.0.1", 7860)
    assert guard.check("127.0.0.1:7860", None, None) is None
    assert guard.check("localhost:7860", "http://localhost:7860", None) is None
    assert guard.check("evil.example:7860", None, None).status == 400  # DNS rebinding
    assert guard.check("127.0.0.1:7861", None, None).status == 400  # another port
    assert guard.check(None, None, None).status == 400
    assert guard.check("127.0.0.1:7860", "http://evil.example", None).status == 403  # cross-site
    assert guard.check("127.0.0.1:7860", "null", None).status == 403  # the Origin: null bypass
    assert guard.check("127.0.0.1:7860", "http://localhost:7860", None).status == 403  # not the Host's origin


def test_beyond_loopback_a_token_is_required():
    with pytest.raises(ValueError):
        Guard("0.0.0.0", 7860)
    guard = Guard("192.168.1.5", 7860, token="s3cret")
    assert guard.check("192.168.1.5:7860", None, "s3cret") is None
    assert guard.check("192.168.1.5:7860", None, None).status == 403
    assert guard.check("192.168.1.5:7860", None, "s3cret!").status == 403
    assert guard.check("127.0.0.1:7860", None, "s3cret").status == 400  # not the address it serves
    everywhere = Guard("0.0.0.0", 7860, token="s3cret")  # reached by names it cannot know: the token decides
    assert everywhere.check("192.168.1.5:7860", "http://192.168.1.5:7860", "s3cret") is None
    assert everywhere.check("192.168.1.5:7860", None, None).status == 403
    assert everywhere.check("192.168.1.5:7860", "http://evil.example", "s3cret").status == 403


# ----------------------------------------------------------------------------- store

def test_jobs_queue_in_order_and_move(tmp_path):
    store = Store(tmp_path / "studio.db")
    a = store.add_job("prepare", {"source": "art"})
    b = store.add_job("train", {"dataset": "d.zip", "minutes": 1})
    c = store.add_job("sample", {"run": "runs"})
    store.move_job(c, before=a)
    assert [j.id for j in store.jobs()] == [c, a, b]
    job = store.next_job()
    assert (job.id, job.status, job.options) == (c, "running", {"run": "runs"})
    store.finish_job(c, "finished", result={"wrote": 4})
    assert store.job(c).result == {"wrote": 4} and store.next_job().id == a
    with pytest.raises(ValueError):
        store.finish_job(a, "running")


def test_a_restart_finds_a_running_job_interrupted_and_keeps_the_queue(tmp_path):
    store = Store(tmp_path / "studio.db")
    running = store.add_job("train", {"dataset": "d.zip"})
    queued = store.add_job("sample", {"run": "runs"})
    assert store.next_job().id == running
    restarted = Store(tmp_path / "studio.db")  # the server starts again; the worker is gone
    assert {j.id: j.status for j in restarted.jobs()} == {running: "interrupted", queued: "queued"}
    assert restarted.job(running).options == {"dataset": "d.zip"}


def test_twenty_concurrent_rating_writes_lose_none(tmp_path):
    store = Store(tmp_path / "studio.db")
    errors = []

    def rate(i):
        try:
            Store(tmp_path / "studio.db").rate(f"samples/seed{i:04d}.png", stars=i % 5 + 1, tags=["keep", f"t{i}"])
        except Exception as exc:  # noqa: BLE001 (collected: the test fails on any)
            errors.append(exc)

    threads = [threading.Thread(target=rate, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ratings = store.ratings()
    assert len(ratings) == 20
    assert all(ratings[f"samples/seed{i:04d}.png"] == {"stars": i % 5 + 1, "tags": ["keep", f"t{i}"], "notes": ""}
               for i in range(20))


def test_a_rating_keeps_what_is_not_given_and_refuses_bad_stars(tmp_path):
    store = Store(tmp_path / "studio.db")
    store.rate("a.png", stars=4)
    store.rate("a.png", notes="the best one")
    assert store.ratings()["a.png"] == {"stars": 4, "tags": [], "notes": "the best one"}
    for bad in (0, 6, True, 2.5):
        with pytest.raises(ValueError):
            store.rate("a.png", stars=bad)


# ----------------------------------------------------------------------------- worker

def _images(folder, n: int):
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


def test_a_queued_job_runs_in_a_worker_process_and_its_events_are_stored(tmp_path):
    from artforge.studio.worker import Worker

    store = Store(tmp_path / "studio.db")
    out = tmp_path / "ws" / "datasets" / "art.zip"
    ok = store.add_job("prepare", {"source": str(_images(tmp_path / "art", 5)), "size": 16, "workers": 1,
                                   "progress": False, "out": str(out)})
    again = store.add_job("prepare", {"source": str(tmp_path / "art"), "size": 16, "out": str(out)})  # out exists
    worker = Worker(tmp_path / "studio.db")
    assert worker.run_next() == ok and worker.run_next() == again and worker.run_next() is None
    done = store.job(ok)
    assert done.status == "finished" and out.is_file() and (done.result["path"], done.result["count"]) == (str(out), 5)
    counts = [e["fields"] for e in store.events(ok) if e["kind"] == "progress"]
    assert counts[-1]["done"] == counts[-1]["total"] == 5
    assert store.events(ok, after=len(store.events(ok))) == []
    failed = store.job(again)  # the command's own one line, with its fix
    assert failed.status == "failed" and "already exists" in failed.error and "--overwrite" in failed.error


def test_cancelling_a_running_training_job_saves_a_resumable_checkpoint(tmp_path, blob_dataset):
    import time

    from artforge.studio.worker import Worker

    store = Store(tmp_path / "studio.db")
    job = store.add_job("train", {"dataset": str(blob_dataset), "out": str(tmp_path / "runs"), "steps": 100_000,
                                  "batch": 4, "width": 4, "z_dim": 8, "tick": 5, "eval_images": 0,
                                  "device": "cpu", "precision": "fp32", "progress": False, "tensorboard": False})
    thread = threading.Thread(target=Worker(tmp_path / "studio.db").run_next)
    thread.start()
    deadline = time.time() + 120
    while not any(e["kind"] == "progress" for e in store.events(job)) and time.time() < deadline:
        time.sleep(0.2)
    assert store.request_cancel(job) == "running"
    thread.join(timeout=120)
    ended = store.job(job)
    assert ended.status == "interrupted", ended.error
    step = ended.result["step"]  # stopped long before its 100,000 steps, saved at the step it stopped
    assert step < 100_000 and Path(ended.result["checkpoint"]).name == f"step-{step:06d}"
    assert (Path(ended.result["checkpoint"]) / "state.json").is_file()
