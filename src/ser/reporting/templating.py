"""Jinja2 templates for the generated HTML and Markdown (index page, model card, demo).

HTML templates are autoescaped: a file name or a model name with markup in it
is shown as text. Markdown templates (the model card) are not HTML and are
rendered as written.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(__file__).with_name("templates")


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,  # a missing value is an error, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, /, **context) -> str:
    """Render the template ``templates/<name>`` with ``context``."""
    return environment().get_template(name).render(**context)
