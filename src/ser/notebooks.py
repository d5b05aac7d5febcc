"""Execute a notebook with papermill, passing only the parameters it declares.

The Makefile passes one set of run-wide parameters (seed, quick, epochs, ...)
to every notebook; each notebook receives the ones its ``parameters`` cell
names, so papermill never injects a variable a notebook does not use.

    python -m ser.notebooks notebooks/03_training.ipynb reports/03_training.ipynb seed=42 quick=1
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import papermill

KERNEL_NAME = "ser"


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
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(source),
        str(output),
        parameters=used,
        kernel_name=KERNEL_NAME,
        cwd=str(Path(source).resolve().parent),
        progress_bar=False,
        log_output=False,
    )
    return used


def main(argv: list[str] | None = None) -> None:
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
    main()
