"""The README's "install and open" line: JupyterLab at the course's root, lesson 00 first.

The command is read from README.md itself, so the README cannot drift from what is tested:
the server it starts must serve the lessons, the exercises and the solutions (every lesson
ends by pointing at an exercise), and open ``notebooks/00_welcome.ipynb``.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_open_command() -> list[str]:
    """The arguments of ``jupyter lab`` in the README's install-and-open line."""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("python3 -m venv") and "jupyter lab" in line:
            return shlex.split(line.split("&& jupyter lab", 1)[1])
    raise AssertionError("README.md has no 'python3 -m venv ... && jupyter lab ...' line")


def test_the_readme_opens_lesson_00_at_the_course_root(tmp_path: Path) -> None:
    arguments = readme_open_command()
    assert "notebooks/00_welcome.ipynb" in arguments
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = os.urandom(16).hex()
    runtime = tmp_path / "runtime"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(runtime), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    command = [sys.executable, "-m", "jupyterlab", *arguments, "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # what the README says to add when running as root
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)

    def get(path: str) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "JupyterLab exited"
            try:
                get("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "JupyterLab did not answer in 60 s"
                time.sleep(0.25)
        top = {item["name"] for item in get("/api/contents/")["content"]}
        assert {"notebooks", "exercises", "solutions"} <= top, top
        for path in ("notebooks/00_welcome.ipynb", "exercises/01_bandits.ipynb", "solutions/01_bandits.ipynb"):
            model = get(f"/api/contents/{path}?content=1")
            assert model["type"] == "notebook" and model["content"]["cells"], path
        # The page the browser would open is lesson 00, inside that root.
        opened = " ".join(path.read_text(encoding="utf-8") for path in runtime.glob("jpserver-*-open.html"))
        assert "notebooks/00_welcome.ipynb" in opened, opened[:500]
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
