"""A digest of what notebook 03 writes, so the notebooks that read it re-run only when it changes.

``python -m ser.reporting.outputs MODELS_DIR STAMP`` hashes every file under
``MODELS_DIR`` (the shipped models and ``runs/``) and writes the digest to
``STAMP`` only when it differs from the one there. Make compares file times, so
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


def file_digest(path: Path) -> str:
    """SHA-256 of a file's contents; for a zip archive, of its members' names and contents."""
    digest = hashlib.sha256()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                digest.update(name.encode() + b"\0" + archive.read(name))
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def outputs_digest(folder: Path) -> str:
    """One digest of every file under ``folder``, by relative path and contents."""
    lines = [
        f"{path.relative_to(folder).as_posix()} {file_digest(path)}"
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def update_stamp(folder: Path, stamp: Path) -> bool:
    """Write ``folder``'s digest to ``stamp`` if it changed; return whether it did."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: notebook 03 writes it")
    digest = outputs_digest(folder) + "\n"
    if stamp.exists() and stamp.read_text() == digest:
        return False
    stamp.write_text(digest)
    return True


def main(argv: list[str] | None = None) -> int:
    folder, stamp = (Path(arg) for arg in (argv or sys.argv[1:]))
    changed = update_stamp(folder, stamp)
    print(f"{stamp}: {'changed' if changed else 'unchanged'} ({folder})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
