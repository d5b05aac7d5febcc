"""A digest of what notebook 03 writes, so the notebooks that read it re-run only when it changes.

``python -m ser.reporting.outputs MODELS_DIR STAMP`` hashes every file notebook 03
writes under ``MODELS_DIR`` (the shipped models and ``runs/``) and writes the list
of digests to ``STAMP`` only when it differs from the one there. Make compares file times, so
an unchanged stamp keeps notebooks 04 and 05 up to date after notebook 03 ran
again for an edit that changed none of its outputs. A ``.keras`` file is a zip
whose headers carry the time it was written, so its members' contents are hashed
instead of its bytes.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

from ser.features.cache import file_digest


def content_digest(path: Path) -> str:
    """SHA-256 of a file's contents; for a zip archive, of its members' names and contents."""
    if not zipfile.is_zipfile(path):
        return file_digest(path)
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            digest.update(name.encode() + b"\0" + archive.read(name))
    return digest.hexdigest()


# Files under models/ that notebooks 04 and 05 do not read from notebook 03: the model
# card (notebook 04 writes it) and notebook 03's log of its trainings' times and reuse
# (the index page reads it, and is rendered again whenever notebook 03 runs).
NOT_DIGESTED = frozenset({"model_card.md", "runs/trainings.json"})


def outputs_digest(folder: Path) -> str:
    """Each file under ``folder`` but :data:`NOT_DIGESTED`, with the digest of its contents:
    one line per file."""
    lines = [
        f"{path.relative_to(folder).as_posix()} {content_digest(path)}\n"
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).as_posix() not in NOT_DIGESTED
    ]
    return "".join(lines)


def update_stamp(folder: Path, stamp: Path) -> bool:
    """Write ``folder``'s digest to ``stamp`` if it changed; return whether it did."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: notebook 03 writes it")
    digest = outputs_digest(folder)
    if stamp.exists() and stamp.read_text() == digest:
        return False
    stamp.write_text(digest)
    return True


def update_from_command_line(argv: list[str] | None = None) -> int:
    folder, stamp = (Path(arg) for arg in (argv or sys.argv[1:]))
    changed = update_stamp(folder, stamp)
    print(f"{stamp}: {'changed' if changed else 'unchanged'} ({folder})")
    return 0


if __name__ == "__main__":
    sys.exit(update_from_command_line())
