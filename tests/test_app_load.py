"""The app page's kernels stay bounded: a short version of bench/app_load.py."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import psutil
import pytest

from ser.app.server import KernelLimits, running_app
from ser.config import MODELS_DIR
from ser.models.artifacts import ONNX_FILE


def kernels(server: psutil.Process) -> int:
    """Kernel processes alive under the server (a culled one may linger as a zombie)."""
    alive = 0
    for process in server.children(recursive=True):
        try:
            alive += "ipykernel_launcher" in " ".join(process.cmdline())
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return alive


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        if error.code == 503:
            assert "try again in a minute" in error.read().decode()
        return error.code


@pytest.mark.slow
def test_page_loads_beyond_the_cap_are_told_busy_and_kernels_are_culled(tmp_path):
    if not (MODELS_DIR / ONNX_FILE).exists():
        pytest.skip("no shipped model in models/")
    limits = KernelLimits(max_users=2, orphan_timeout=5, cull_interval=2)
    with running_app(limits, log=tmp_path / "voila.log") as (process, url):
        server = psutil.Process(process.pid)
        deadline = time.monotonic() + 60
        while kernels(server) < 1:  # the preheated kernel
            assert process.poll() is None and time.monotonic() < deadline, "voila did not start"
            time.sleep(0.5)
        statuses = [status_of(url) for _ in range(10)]  # plain loads: none ever connects
        assert statuses.count(200) == limits.max_users and statuses.count(503) == 8
        assert kernels(server) <= limits.max_users + 1
        deadline = time.monotonic() + 60
        while kernels(server) > 1 and time.monotonic() < deadline:
            time.sleep(1)  # the orphans are culled; only the preheated kernel stays
        assert kernels(server) <= 1
        # Room again once the last visitor's kernel has gone and the pool is refilled (the
        # one kernel left may still be a visitor's, culled a pass later than the first).
        deadline = time.monotonic() + 60
        while (status := status_of(url)) != 200 and time.monotonic() < deadline:
            time.sleep(2)
        assert status == 200
