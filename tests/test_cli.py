"""The `tend` command end to end: migrate, createadmin, token, serve (gunicorn + worker) on a
throw-away SQLite database, answering real HTTP requests."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TEND = [sys.executable, "-m", "tend.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def installation(tmp_path: Path):
    env = {
        **os.environ,
        "TEND_VAR_DIR": str(tmp_path),
        "TEND_DATABASE_URL": f"sqlite:///{tmp_path / 'tend.sqlite3'}",
        "TEND_STATIC_ROOT": str(tmp_path / "static"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([*TEND, "migrate"], env=env, check=True, capture_output=True)
    return env


def _request(url: str, token: str | None = None, body: dict | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), json.loads(error.read())


def test_token_create_prints_only_the_key(installation):
    env = installation
    subprocess.run([*TEND, "createadmin", "root@example.com", "--password", "long-enough-pw"], env=env, check=True)
    result = subprocess.run(
        [*TEND, "token", "create", "root@example.com", "--name", "ci", "--write"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tend_") and len(lines[0]) > 40


def test_serve_answers_http_with_worker(installation):
    env = installation
    subprocess.run([*TEND, "createadmin", "root@example.com", "--password", "long-enough-pw"], env=env, check=True)
    token = subprocess.run(
        [*TEND, "token", "create", "root@example.com", "--name", "ci", "--write"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = _free_port()
    server = subprocess.Popen(
        [*TEND, "serve", "--port", str(port), "--workers", "1"], env=env, stdout=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        status, content_type, body = _request(
            f"{base}/api/v1/objects/companies", token, {"properties": {"name": "Acme"}}
        )
        assert status == 201 and body["properties"]["name"] == "Acme"
        status, content_type, body = _request(f"{base}/api/v1/objects/companies", token, {"properties": {"mrr": "x"}})
        assert status == 422 and content_type == "application/problem+json"
        assert {e["field"] for e in body["errors"]} == {"properties.mrr", "properties.name"}
        status, _ct, body = _request(f"{base}/api/v1/objects/companies")
        assert status == 401
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/" in out
    assert server.returncode == 0


def test_embedded_sqlite_runs_in_wal_mode(installation):
    import sqlite3

    db = installation["TEND_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
