"""Version checks, a record of the machine, and digests of the code that computes a result."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ser.config import PROJECT_ROOT

# Oldest versions the code is known to work with; the pins are the tested ones.
MINIMUM_VERSIONS = {
    "python": (3, 11),
    "tensorflow": (2, 16),  # Keras 3 is the default from 2.16
    "keras": (3, 0),
    "librosa": (0, 10),
    "numpy": (1, 26),
}
PACKAGES = [
    "tensorflow",
    "keras",
    "librosa",
    "numpy",
    "pandas",
    "scikit-learn",
    "soundfile",
    "soxr",
]


def _package_version(name: str) -> str | None:
    for candidate in (name, f"{name}-cpu"):
        try:
            return version(candidate)
        except PackageNotFoundError:
            continue
    return None


def _as_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def cpu_name() -> str:
    """The CPU model as the OS reports it (``platform.processor()`` is often empty)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    """Python and key package versions, plus CPU and core count."""
    record = {"python": platform.python_version()}
    for name in PACKAGES:
        record[name] = _package_version(name) or "not installed"
    record["platform"] = platform.platform()
    record["cpu"] = cpu_name()
    record["cores"] = str(os.cpu_count())
    return record


def check_versions() -> dict[str, str]:
    """Print the versions in use and raise if any is older than the code supports."""
    record = versions()
    too_old = []
    for name, minimum in MINIMUM_VERSIONS.items():
        found = record.get(name) if name != "python" else platform.python_version()
        if found in (None, "not installed") or _as_tuple(found) < minimum:
            too_old.append(f"{name} {found} (need >= {'.'.join(map(str, minimum))})")
    for name, value in record.items():
        print(f"{name:>13}: {value}")
    if too_old:
        raise RuntimeError(
            "This environment is too old for the notebooks: "
            + "; ".join(too_old)
            + ". Run `make setup` to build the pinned environment."
        )
    print(f"{'executable':>13}: {sys.executable}")
    return record


# What a run's numbers depend on: a change under these paths makes the tree "dirty".
# Outputs (models/, figures/, reports/) are not code: a run rewrites them.
CODE_PATHS = ("src", "notebooks", "Makefile", "pyproject.toml", "requirements.lock",
              "environment.yml")  # fmt: skip


def git_commit() -> str:
    """Short commit hash of the project, with ``-dirty`` when its code differs from it
    (changed or new files under :data:`CODE_PATHS`)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *CODE_PATHS],
            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("-dirty" if dirty else "")


def _module_file(name: str) -> Path | None:
    """The source file of module ``name``, found on disk without importing it (or None)."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(list(spec.submodule_search_locations)[0]).joinpath(*rest)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _imported(tree: ast.AST, package: str) -> set[str]:
    """The modules of ``package`` a syntax tree imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == package}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != package:
                continue
            found.add(node.module)
            # ``from ser.models import heads`` imports the module ``ser.models.heads``
            found |= {f"{node.module}.{a.name}" for a in node.names
                      if _module_file(f"{node.module}.{a.name}")}  # fmt: skip
    return found


@functools.cache
def _module_code(name: str) -> tuple[str, frozenset[str]]:
    path = _module_file(name)
    tree = ast.parse(path.read_text(encoding="utf-8")) if path else ast.Module([], [])
    package = name.split(".")[0]
    return ast.dump(_without_docstrings(tree)), frozenset(_imported(tree, package))


def source_digest(*modules: str) -> str:
    """A digest of the code of ``modules`` and of every module of their package they import.

    The digest follows imports transitively (inside functions too) and hashes
    each module's syntax tree without docstrings, so editing code a result
    depends on changes it, while comments, docstrings and formatting do not.
    Cache keys use it instead of version numbers bumped by hand.
    """
    seen: dict[str, str] = {}
    pending = list(modules)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        code, imports = _module_code(name)
        seen[name] = code
        pending.extend(imports - seen.keys())
    text = "\n".join(f"{name}\n{seen[name]}" for name in sorted(seen))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
