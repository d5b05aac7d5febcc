"""Version checks and a record of the machine, for notebooks and the report."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

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
