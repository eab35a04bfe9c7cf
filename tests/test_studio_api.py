"""The studio's HTTP API through FastAPI's test client: the guard, the workspace's paths, jobs and ratings."""

from __future__ import annotations

import os

import pytest

fastapi = pytest.importorskip("fastapi")  # the studio extra; installed with the test extra

from fastapi.testclient import TestClient  # noqa: E402

from artforge.studio.guard import Guard  # noqa: E402
from artforge.studio.server import create_app  # noqa: E402

HOST = "127.0.0.1:7860"


@pytest.fixture
def space(tmp_path):
    root = tmp_path / "ws"
    (root / "samples").mkdir(parents=True)
    (root / "samples" / "seed0001.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "secret.txt").write_text("SECRET-CONTENT")
    os.symlink(tmp_path / "secret.txt", root / "samples" / "link.png")
    return root


@pytest.fixture
def client(space):
    app = create_app(space, Guard("127.0.0.1", 7860))
    return TestClient(app, base_url=f"http://{HOST}")


def test_a_workspace_file_is_served_and_every_traversal_refused(client):
    assert client.get("/files/samples/seed0001.png").content == b"\x89PNG fake"
    for path in ("/files/..%2Fsecret.txt", "/files/%252e%252e%252fsecret.txt", "/files/samples/link.png",
                 "/files/%2Fetc%2Fpasswd", "/files/samples/..%5C..%5Csecret.txt"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "SECRET-CONTENT" not in response.text and response.json()["error"].startswith("path ")
    assert client.get("/files/samples/missing.png").status_code == 404


def test_foreign_hosts_and_origins_are_refused_and_a_token_is_needed_off_loopback(space):
    client = TestClient(create_app(space, Guard("127.0.0.1", 7860)), base_url=f"http://{HOST}")
    assert client.get("/api/jobs").status_code == 200
    assert client.get("/api/jobs", headers={"host": "rebind.example:7860"}).status_code == 400
    assert client.get("/api/jobs", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.get("/api/jobs", headers={"origin": "null"}).status_code == 403
    wide = TestClient(create_app(space, Guard("192.168.1.5", 7860, token="t0ken")), base_url="http://192.168.1.5:7860")
    assert wide.get("/api/jobs").status_code == 403
    assert wide.get("/api/jobs", headers={"x-artforge-token": "wrong"}).status_code == 403
    assert wide.get("/api/jobs", headers={"x-artforge-token": "t0ken"}).status_code == 200


def test_jobs_are_queued_cancelled_and_an_unknown_command_gets_one_line(client):
    job = client.post("/api/jobs", json={"command": "prepare", "options": {"source": "art"}}).json()
    assert (job["command"], job["status"]) == ("prepare", "queued")
    assert client.post(f"/api/jobs/{job['id']}/cancel").json() == {"status": "cancelled"}
    assert [j["status"] for j in client.get("/api/jobs").json()] == ["cancelled"]
    bad = client.post("/api/jobs", json={"command": "rm -rf", "options": {}})
    assert bad.status_code == 400 and bad.json()["error"].startswith("unknown command 'rm -rf'")


def test_ratings_are_stored_for_workspace_files_only(client):
    saved = client.put("/api/ratings", json={"output": "samples/seed0001.png", "stars": 5, "tags": ["keep"]})
    assert saved.json() == {"stars": 5, "tags": ["keep"], "notes": ""}
    assert client.get("/api/ratings").json() == {"samples/seed0001.png": {"stars": 5, "tags": ["keep"], "notes": ""}}
    assert client.put("/api/ratings", json={"output": "../secret.txt", "stars": 5}).status_code == 400
    assert client.put("/api/ratings", json={"output": "samples/seed0001.png", "stars": 9}).status_code == 400


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_artforge_studio_prints_its_url_serves_and_runs_a_queued_job(tmp_path):
    """The command itself: the URL printed, the API answering, a queued job run by its worker."""
    import subprocess
    import sys
    import time

    import httpx

    port = _free_port()
    (tmp_path / "art").mkdir()
    from PIL import Image
    for i in range(3):
        Image.new("RGB", (20, 20), (40 * i, 80, 120)).save(tmp_path / "art" / f"{i}.png")
    server = subprocess.Popen([sys.executable, "-m", "artforge", "studio", str(tmp_path / "ws"), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith(f"artforge studio: http://127.0.0.1:{port}/") and "token" not in line
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # uvicorn starts after the line is printed
            try:
                httpx.get(f"{base}/api/jobs", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        out = tmp_path / "ws" / "datasets" / "art.zip"
        job = httpx.post(f"{base}/api/jobs", json={"command": "prepare", "options": {
            "source": str(tmp_path / "art"), "size": 16, "workers": 1, "progress": False, "out": str(out)}}).json()
        for _ in range(300):
            status = httpx.get(f"{base}/api/jobs").json()[0]["status"]
            if status not in ("queued", "running"):
                break
            time.sleep(0.2)
        assert status == "finished" and out.is_file() and job["id"] == 1
        assert httpx.get(f"{base}/api/jobs", headers={"host": "rebind.example"}).status_code == 400
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_train_form_is_the_cli_s_options_by_part_with_the_cli_s_messages(client):
    from artforge.cli import build_parser

    form = client.get("/api/options/train", params={"task": "sr"}).json()
    parts = {row["part"] for row in form}
    assert parts == {None, "--task sr"}  # no family: sr trains its own networks
    sr = {row["name"]: row for row in form if row["part"] == "--task sr"}
    assert (sr["l1_weight"]["default"], sr["blocks"]["default"], sr["scale"]["choices"]) == (1.0, 4, [2, 4])
    dcgan = client.get("/api/options/train").json()
    assert {row["part"] for row in dcgan} == {None, "--task generation", "--arch dcgan"}
    # every field a form shows is a flag `artforge train` parses
    train = build_parser(["train"])._subparsers._group_actions[0].choices["train"]
    flags = {s for a in train._actions for s in a.option_strings} | {"dataset"}
    assert all(row["flag"] in flags for row in dcgan + form if row["name"] != "dataset")
    assert [row["flag"] for row in dcgan if row["name"] == "dataset"] == [None]  # the positional DATASET
    assert client.get("/api/options/train", params={"arch": "nope"}).status_code == 400
    # the same checks and words as the CLI
    assert client.post("/api/check/train", json={"dataset": "d.zip", "batch": 8}).json() == {"ok": True}
    bad = client.post("/api/check/train", json={"dataset": "d.zip", "batch": 0})
    assert bad.status_code == 400 and bad.json()["error"].startswith("--batch must be an integer >= 1")
    foreign = client.post("/api/check/train", json={"dataset": "d.zip", "crop": 32})
    assert "--crop is an option of --task sr" in foreign.json()["error"]
    sample = {row["name"] for row in client.get("/api/options/sample").json()}
    assert {"run", "seeds", "truncation"} <= sample
