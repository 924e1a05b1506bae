"""Start and stop a JupyterLab server for the browser tests; find Chromium and Playwright.

One JupyterLab server, started from this Python (``sys.executable``), so its kernels run in
the course's own environment. It serves a temporary copy of a notebooks folder (running a
notebook in JupyterLab changes it; the committed lessons must not change), listens on
127.0.0.1 on a free port with a random token, and keeps its settings, workspaces, runtime
files, IPython profile and matplotlib cache in a temporary folder, so nothing touches the
user's home. Chromium is Debian's (``/usr/bin/chromium``, or ``$MEDIARL_CHROMIUM``), driven by
the Python package ``playwright``; Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
HERE = Path(__file__).resolve().parent

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
# JupyterLab settings for the test server: every cell in the DOM (no virtual scrolling, so
# every output can be checked and screenshot), kernel timestamps in each cell's metadata
# (how long the notebook ran), no autosave, no news or update checks.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none", "recordTiming": True},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
SERVER_START_TIMEOUT_S = 90
TIMINGS: list[dict] = []  # one entry per lesson driven, printed at the end of the run


def timing_line(t: dict) -> str:
    return (f"{t['notebook']}: cells ran {t['kernel_s']:.1f} s (kernel clock), {t['explorers']} explorer(s), "
            f"{t['controls_moved']} control(s) redrawn in {t['explore_s']:.1f} s, "
            f"{t['screens']} screen(s) saved in {t['pages_s']:.1f} s, total {t['total_s']:.1f} s")


def lesson_left_out(name: str) -> str | None:
    """Why this lesson is not driven in the browser in this run, or None when it is.
    Every lesson is, unless ``MEDIARL_BROWSER_LESSONS=01,05`` names only some (their prefixes)."""
    chosen = os.environ.get("MEDIARL_BROWSER_LESSONS", "all").strip()
    if chosen in ("", "all"):
        return None
    prefixes = tuple(p.strip() for p in chosen.split(",") if p.strip())
    return None if name.startswith(prefixes) else f"not in MEDIARL_BROWSER_LESSONS={chosen} (nbval runs it)"


def find_chromium() -> str | None:
    candidates = [os.environ.get("MEDIARL_CHROMIUM"), "/usr/bin/chromium",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    base_url: str
    token: str
    root: Path
    log_path: Path
    process: subprocess.Popen

    def api(self, method: str, path: str, body: dict | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def log_tail(self, n_chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n_chars:]

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")


def start_lab(workdir: Path, notebooks: Path) -> LabServer:
    root = workdir / "root"
    shutil.copytree(notebooks, root / "notebooks")
    settings = workdir / "settings"
    for plugin, values in LAB_SETTINGS.items():
        package, name = plugin.split(":")
        path = settings / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ,
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"),
               JUPYTER_CONFIG_DIR=str(workdir / "config"), JUPYTER_DATA_DIR=str(workdir / "data"),
               JUPYTER_RUNTIME_DIR=str(workdir / "runtime"), IPYTHONDIR=str(workdir / "ipython"),
               MPLCONFIGDIR=str(workdir / "matplotlib"))
    # CI exports MPLBACKEND=Agg; a learner's kernel uses the inline backend, and so must these.
    env.pop("MPLBACKEND", None)
    port, token = free_port(), os.urandom(16).hex()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: kernel state for the tests
               "--LabApp.extension_manager=readonly",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    log_path = workdir / "jupyterlab.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=workdir, start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log_path, process)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("GET", "/api/status")
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            if time.monotonic() > deadline:
                stop_lab(server)
                raise RuntimeError(f"JupyterLab did not answer in {SERVER_START_TIMEOUT_S} s:\n{server.log_tail()}"
                                   ) from error
            time.sleep(0.25)


def stop_lab(server: LabServer) -> None:
    """Shut the kernels down, then the server. Kernels run in their own process groups, so
    they are shut down through the API first; the server itself sometimes hangs at exit
    (an idle AnyIO worker thread it never stops), so after a grace period its process group
    is killed."""
    try:
        server.shut_down_kernels()
        server.api("POST", "/api/shutdown")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        pass
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


