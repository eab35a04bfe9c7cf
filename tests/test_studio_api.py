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
