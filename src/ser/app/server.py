"""The demo app page: ``make demo`` (or ``python -m ser.app.server --port 8866``).

Voila serves ``app.ipynb`` (one cell: :func:`ser.app.demo.app`), so the page shows
the app and nothing of a notebook: a title, one line on the model, the inputs
(upload, record, samples) and the result. It listens on 127.0.0.1 only. A
kernel is kept running with the page already built (Voila's preheated kernel),
so the page is usable as soon as it opens.

Kernels are bounded (:mod:`ser.app.serving`): at most ``--max-users`` visitors at
once (others get a short "busy, try again in a minute" page), a kernel whose
page is gone is shut down after ``--orphan-timeout`` seconds, and an idle one
after ``--idle-timeout`` seconds. ``make demo`` takes them from
``DEMO_MAX_USERS``, ``DEMO_ORPHAN_TIMEOUT`` and ``DEMO_IDLE_TIMEOUT``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ser.app.serving import (
    DEFAULT_CULL_INTERVAL,
    DEFAULT_IDLE_SECONDS,
    DEFAULT_MAX_USERS,
    DEFAULT_ORPHAN_SECONDS,
)
from ser.config import MAX_UPLOAD_BYTES

APP_NOTEBOOK = Path(__file__).with_name("app.ipynb")
DEFAULT_PORT = 8866


@dataclass(frozen=True)
class KernelLimits:
    """How many visitors at once, and when an idle kernel is shut down (seconds)."""

    max_users: int = DEFAULT_MAX_USERS
    idle_timeout: int = DEFAULT_IDLE_SECONDS  # connected but idle
    orphan_timeout: int = DEFAULT_ORPHAN_SECONDS  # no page connected
    cull_interval: int = DEFAULT_CULL_INTERVAL

    def describe(self) -> str:
        return (
            f"at most {self.max_users} visitors at once (DEMO_MAX_USERS), a kernel whose page "
            f"is gone is shut down after {self.orphan_timeout} s (DEMO_ORPHAN_TIMEOUT), an idle "
            f"one after {self.idle_timeout} s (DEMO_IDLE_TIMEOUT); checked every "
            f"{self.cull_interval} s"
        )


def voila_command(
    port: int, preheat: bool = True, limits: KernelLimits = KernelLimits()
) -> list[str]:
    """The Voila command line that serves the app on 127.0.0.1:``port``."""
    command = [
        sys.executable, "-m", "voila", str(APP_NOTEBOOK), "--no-browser",
        "--Voila.ip=127.0.0.1", f"--port={port}", "--show_tracebacks=False",
        "--strip_sources=True", "--theme=light",
        "--VoilaConfiguration.multi_kernel_manager_class=ser.app.serving.DemoKernelManager",
        f"--DemoKernelManager.max_kernels={limits.max_users}",
        f"--DemoKernelManager.orphan_timeout={limits.orphan_timeout}",
        f"--MappingKernelManager.cull_idle_timeout={limits.idle_timeout}",
        f"--MappingKernelManager.cull_interval={limits.cull_interval}",
        "--MappingKernelManager.cull_connected=True",
        # An upload travels over the kernel's websocket: let one of the largest accepted through.
        f"--Voila.tornado_settings={{'websocket_max_message_size': {2 * MAX_UPLOAD_BYTES}}}",
    ]  # fmt: skip
    if preheat:
        command += ["--preheat_kernel=True", "--pool_size=1"]
    return command


# Debian's headless Chromium, as the browser tests and benchmarks drive the page.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(
    limits: KernelLimits = KernelLimits(), *, log: Path | None = None, timeout: float = 60
) -> Iterator[tuple[subprocess.Popen, str]]:
    """The app served on a free port (for tests and benchmarks): yields the server process and
    its URL once it listens; stops the server and any kernel it leaves behind."""
    import psutil

    from ser.config import PROJECT_ROOT

    port = free_port()
    output = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(voila_command(port, limits=limits), stdout=output,
                               stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)  # fmt: skip
    server = psutil.Process(process.pid)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:  # listening is enough: a GET of the page would start a kernel
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    details = Path(log).read_text()[-3000:] if log else ""
                    raise RuntimeError(f"the app did not start\n{details}") from None
                time.sleep(0.2)
        yield process, f"http://127.0.0.1:{port}/"
    finally:
        children = server.children(recursive=True) if process.poll() is None else []
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        for child in children:
            if child.is_running():
                child.kill()
        if log:
            output.close()


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def serve(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--no-preheat", action="store_true",
                        help="start a kernel per visit instead of keeping one ready")  # fmt: skip
    parser.add_argument("--max-users", type=int,
                        default=env_int("DEMO_MAX_USERS", DEFAULT_MAX_USERS),
                        help="visitors at once; one more gets a 'busy' page (about 300 MB each)")  # fmt: skip
    parser.add_argument("--idle-timeout", type=int,
                        default=env_int("DEMO_IDLE_TIMEOUT", DEFAULT_IDLE_SECONDS),
                        help="seconds after which an idle visitor's kernel is shut down")  # fmt: skip
    parser.add_argument("--orphan-timeout", type=int,
                        default=env_int("DEMO_ORPHAN_TIMEOUT", DEFAULT_ORPHAN_SECONDS),
                        help="seconds after which a kernel whose page is gone is shut down")  # fmt: skip
    parser.add_argument("--cull-interval", type=int, default=DEFAULT_CULL_INTERVAL,
                        help="seconds between checks for idle kernels")  # fmt: skip
    parser.add_argument("--model", type=Path,
                        help="serve this model folder (e.g. from `python -m ser train`) instead "
                        "of the shipped one")  # fmt: skip
    args = parser.parse_args(argv)
    if args.model:
        from ser.app.demo import MODEL_DIR_ENV_VAR
        from ser.models.artifacts import require_files

        require_files(args.model, "emotion_model.onnx")
        os.environ[MODEL_DIR_ENV_VAR] = str(args.model.resolve())  # the kernels inherit it
    limits = KernelLimits(
        args.max_users, args.idle_timeout, args.orphan_timeout, args.cull_interval
    )
    print(f"serving the demo at http://127.0.0.1:{args.port}/ (Ctrl+C stops it)", flush=True)
    print(f"kernels: {limits.describe()}", flush=True)
    try:
        return subprocess.call(voila_command(args.port, not args.no_preheat, limits))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(serve())
