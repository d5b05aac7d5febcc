"""The demo app page: ``make demo`` (or ``python -m ser.app --port 8866``).

Voila serves ``app.ipynb`` (one cell: :func:`ser.demo.app`), so the page shows
the app and nothing of a notebook: a title, one line on the model, the inputs
(upload, record, samples) and the result. It listens on 127.0.0.1 only. A
kernel is kept running with the page already built (Voila's preheated kernel),
so the page is usable as soon as it opens.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

APP_NOTEBOOK = Path(__file__).with_name("app.ipynb")
DEFAULT_PORT = 8866


def voila_command(port: int, preheat: bool = True) -> list[str]:
    """The Voila command line that serves the app on 127.0.0.1:``port``."""
    command = [
        sys.executable, "-m", "voila", str(APP_NOTEBOOK), "--no-browser",
        "--Voila.ip=127.0.0.1", f"--port={port}", "--show_tracebacks=False",
        "--strip_sources=True", "--theme=light",
    ]  # fmt: skip
    if preheat:
        command += ["--preheat_kernel=True", "--pool_size=1"]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--no-preheat", action="store_true",
                        help="start a kernel per visit instead of keeping one ready")  # fmt: skip
    args = parser.parse_args(argv)
    print(f"serving the demo at http://127.0.0.1:{args.port}/ (Ctrl+C stops it)", flush=True)
    try:
        return subprocess.call(voila_command(args.port, preheat=not args.no_preheat))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
