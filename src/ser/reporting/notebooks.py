"""Execute a notebook with papermill, passing only the parameters it declares.

The Makefile passes one set of run-wide parameters (seed, quick, epochs, ...)
to every notebook; each notebook receives the ones its ``parameters`` cell
names, so papermill never injects a variable a notebook does not use.

    python -m ser.reporting.notebooks notebooks/03_training.ipynb reports/03_training.ipynb seed=42 quick=1
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import threading
from pathlib import Path

import papermill
from jupyter_client.manager import AsyncKernelManager

KERNEL_NAME = "ser"

# Lines a kernel prints on its stderr that are known to be harmless and alarm a reader for
# nothing. Only these are dropped; everything else the kernel prints reaches the terminal.
HARMLESS_KERNEL_LINES = tuple(
    re.compile(pattern)
    for pattern in (
        # TensorFlow start-up, printed before its log level applies
        r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
        r"port\.cc:\d+\] oneDNN custom operations are on",
        r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized",
        r"^To enable the following instructions: .* rebuild TensorFlow",
        # Keras' tf.data pipeline sets an attribute this TensorFlow build's op lacks (ignored)
        r"NodeDef mentions attribute use_unbounded_threadpool which is not in the op definition",
        # ipykernel on loopback TCP (127.0.0.1 only, the connection file is private)
        r"\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption",
    )
)


def is_harmless(line: str) -> bool:
    """Whether a kernel stderr line is one of :data:`HARMLESS_KERNEL_LINES`."""
    return any(pattern.search(line) for pattern in HARMLESS_KERNEL_LINES)


def _forward(read_fd: int, sink) -> None:
    with open(read_fd, encoding="utf-8", errors="replace") as source:
        for line in source:
            if not is_harmless(line.rstrip("\n")):
                sink.write(line)
                sink.flush()


class QuietKernelManager(AsyncKernelManager):
    """Starts the kernel with its stderr piped through a filter of :data:`HARMLESS_KERNEL_LINES`."""

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        read_fd, write_fd = os.pipe()
        kw["stderr"] = write_fd
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            os.close(write_fd)  # the kernel holds its own copy
        threading.Thread(target=_forward, args=(read_fd, sys.stderr), daemon=True).start()


def install_kernel(name: str = KERNEL_NAME) -> Path:
    """Register this environment's Python as the Jupyter kernel ``name`` (inside the venv).

    C-level output (TensorFlow's start-up logs) stays on the terminal instead
    of landing in the notebooks: the kernel runs with ``capture_fd_output`` off.
    """
    import json
    import sys

    from ipykernel.kernelspec import install

    folder = Path(install(kernel_name=name, display_name=f"Python 3 ({name})", prefix=sys.prefix))
    spec = json.loads((folder / "kernel.json").read_text())
    spec["argv"].append("--IPKernelApp.capture_fd_output=False")
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


def parse_value(text: str):
    """``'42'`` -> 42, ``'true'`` -> True, ``'[1, 2]'`` -> [1, 2]; anything else stays text."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def declared_parameters(notebook: str | Path) -> set[str]:
    """Names assigned in the notebook's ``parameters`` cell."""
    return set(papermill.inspect_notebook(str(notebook)))


def execute(source: str | Path, output: str | Path, parameters: dict | None = None) -> dict:
    """Run ``source`` into ``output`` with the parameters it declares; return those."""
    wanted = declared_parameters(source)
    used = {k: v for k, v in (parameters or {}).items() if k in wanted and v not in (None, "")}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # papermill writes its output as it goes: into a side file, renamed only once every
    # cell has run, so an interrupted run (Ctrl-C, a killed make) never leaves an executed
    # notebook that make would take for finished, and the next `make report` runs it again.
    partial = output.with_name(f"{output.stem}.partial{output.suffix}")
    failed = output.with_name(f"{output.stem}.failed{output.suffix}")
    try:
        papermill.execute_notebook(
            str(source),
            str(partial),
            parameters=used,
            kernel_name=KERNEL_NAME,
            cwd=str(Path(source).resolve().parent),
            progress_bar=False,
            log_output=False,
            kernel_manager_class=QuietKernelManager,
        )
    except BaseException:
        if partial.exists():  # keep the failed run for reading, under a name make ignores
            partial.replace(failed)
        raise
    partial.replace(output)
    failed.unlink(missing_ok=True)  # an earlier failure's copy no longer describes the output
    return used


def execute_from_command_line(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("parameters", nargs="*", metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    parameters = {}
    for item in args.parameters:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"parameter {item!r} is not KEY=VALUE")
        parameters[key] = parse_value(value)
    print(f"running {args.source} ...", flush=True)
    used = execute(args.source, args.output, parameters)
    shown = " ".join(f"{k}={v!r}" for k, v in used.items()) or "defaults"
    print(f"executed {args.source} -> {args.output} ({shown})")


if __name__ == "__main__":
    execute_from_command_line()
