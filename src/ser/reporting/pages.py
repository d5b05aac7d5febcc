"""Render an executed notebook as its two HTML pages, in one process.

    python -m ser.reporting.pages reports/03_training.ipynb

writes ``reports/03_training.html`` (for readers: outputs only, no code) and
``reports/03_training.code.html`` (with the code), as ``jupyter nbconvert --to html``
with and without ``--no-input`` would, without starting Python twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter


def render_pages(executed: Path) -> tuple[Path, Path]:
    """Write the reader page and the page with code beside ``executed``; return their paths."""
    executed = Path(executed)
    notebook = nbformat.read(executed, as_version=4)
    reader = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                          exclude_output_prompt=True)  # fmt: skip
    paths = executed.with_suffix(".html"), executed.with_suffix(".code.html")
    for exporter, path in zip((reader, HTMLExporter()), paths, strict=True):
        body, _ = exporter.from_notebook_node(notebook)
        path.write_text(body, encoding="utf-8")
    return paths


def write_pages(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executed", type=Path, nargs="+")
    for executed in parser.parse_args(argv).executed:
        print("wrote", *render_pages(executed))


if __name__ == "__main__":
    write_pages()
