"""Getting RAVDESS: use ``$RAVDESS_DIR`` in place, or download the official zip.

The download resumes a partial file when the server supports ranges (and
restarts cleanly when it does not), checks the size and the MD5 that Zenodo
publishes, and extracts safely: absolute paths, ``..`` members and links are
refused before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from ser.config import RAVDESS_ENV_VAR, RAVDESS_FOLDER_NAME, RAVDESS_MD5, RAVDESS_URL, RAW_DIR

CHUNK = 1 << 20
TIMEOUT_S = 10


class DownloadError(RuntimeError):
    """The archive could not be fetched, verified or extracted."""


def md5sum(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def _offline_message(url: str, reason: object) -> str:
    return (
        f"could not download the RAVDESS archive from {url} ({reason}). "
        f"If you have a copy, point {RAVDESS_ENV_VAR} at its {RAVDESS_FOLDER_NAME} folder, "
        f"e.g. `{RAVDESS_ENV_VAR}=/path/to/{RAVDESS_FOLDER_NAME} make report`."
    )


def download(url: str, target: Path, *, md5: str | None, progress: bool = True) -> Path:
    """Download ``url`` to ``target`` (via ``target.part``), resuming, then verify it.

    A complete, verified ``target`` is returned without a request. A checksum
    mismatch deletes the bad file and raises, so the next call starts clean.
    """
    target = Path(target)
    if target.exists() and (md5 is None or md5sum(target) == md5):
        return target
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # asked for bytes past the end: the part is stale
            partial.unlink()
            return download(url, target, md5=md5, progress=progress)
        raise DownloadError(_offline_message(url, f"HTTP {error.code} {error.reason}")) from None
    except (TimeoutError, urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(_offline_message(url, reason)) from None

    target.parent.mkdir(parents=True, exist_ok=True)
    total = _receive(response, partial, have, url, label=target.name, progress=progress)

    size = partial.stat().st_size
    if total is not None and size != total:
        raise DownloadError(
            f"download of {url} is incomplete: {size} of {total} bytes; "
            f"{partial} is kept and the next run resumes it"
        )
    if md5 is not None:
        actual = md5sum(partial)
        if actual != md5:
            partial.unlink()
            raise DownloadError(
                f"checksum mismatch for {url}: MD5 {actual}, expected {md5}. "
                "The corrupt file was deleted; run again to download it afresh."
            )
    partial.replace(target)
    return target


def _receive(response, partial: Path, have: int, url: str, *, label: str, progress: bool):
    """Write ``response``'s body to ``partial`` (appended if the server resumed at ``have``);
    return the expected total size, or None when the server does not say."""
    with response:
        resumed = have and response.status == 206
        if not resumed:
            have = 0  # server ignored the range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        mode = "ab" if resumed else "wb"
        with (
            open(partial, mode) as out,
            tqdm(
                total=total,
                initial=have,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=label,
                disable=not progress,
            ) as bar,
        ):
            try:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
            except (TimeoutError, OSError) as error:
                raise DownloadError(
                    f"download of {url} was interrupted ({error}); "
                    f"{partial} is kept and the next run resumes it"
                ) from None
    return total


def _checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Every member, after refusing absolute paths, ``..`` and symbolic links."""
    bad = []
    for info in archive.infolist():
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        is_link = stat.S_ISLNK(info.external_attr >> 16)
        if (
            name.startswith(("/", "\\"))
            or (parts and parts[0].endswith(":"))
            or ".." in parts
            or is_link
        ):
            bad.append(name)
    if bad:
        raise DownloadError(f"refusing to extract unsafe archive members: {', '.join(bad)}")
    return archive.infolist()


def extract(archive_path: Path, destination: Path) -> Path:
    """Extract the RAVDESS zip so that ``destination`` holds the ``Actor_NN`` folders.

    Extraction goes to a temporary sibling folder that is renamed into place
    only when complete, so an interrupted run leaves no half-filled tree.
    """
    destination = Path(destination)
    staging = destination.with_name(destination.name + ".extracting")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = _checked_members(archive)
            archive.extractall(staging, members=members)
    except zipfile.BadZipFile as error:
        raise DownloadError(f"{archive_path} is not a valid zip archive ({error})") from None
    # The official zip holds Actor_NN/ at its top; tolerate one wrapping folder.
    content = staging
    nested = staging / RAVDESS_FOLDER_NAME
    if not any(staging.glob("Actor_*")) and nested.is_dir():
        content = nested
    if destination.exists():
        shutil.rmtree(destination)
    content.replace(destination)
    shutil.rmtree(staging, ignore_errors=True)
    return destination


def ensure_ravdess(
    *,
    url: str = RAVDESS_URL,
    md5: str | None = RAVDESS_MD5,
    raw_dir: Path = RAW_DIR,
    progress: bool = True,
) -> Path:
    """Return the folder of RAVDESS clips, downloading and extracting it if needed.

    ``$RAVDESS_DIR`` wins and is used read-only, as it is. Otherwise the tree
    under ``data/raw`` is used when complete, or fetched from ``url``.
    """
    from ser.data.dataset import DatasetError, audit_tree  # pandas: not for `ser predict`'s start

    override = os.environ.get(RAVDESS_ENV_VAR, "").strip()
    if override:
        root = Path(override).expanduser().resolve()
        if not root.is_dir():
            raise DatasetError(
                f"{RAVDESS_ENV_VAR}={override} is not a folder. Point it at the "
                f"{RAVDESS_FOLDER_NAME} folder, or unset it to download the archive."
            )
        return root
    destination = Path(raw_dir) / RAVDESS_FOLDER_NAME
    if destination.is_dir() and audit_tree(destination).ok:
        return destination
    archive = download(
        url, Path(raw_dir) / f"{RAVDESS_FOLDER_NAME}.zip", md5=md5, progress=progress
    )
    return extract(archive, destination)
