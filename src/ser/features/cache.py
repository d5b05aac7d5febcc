"""The feature cache: each kind's features of a set of clips, keyed by what computes them.

A cache file is ``<kind>_<key>.npz`` (no pickle) with a JSON sidecar. The key hashes
the feature parameters, the code that computes them (:func:`ser.environment.source_digest`
of :mod:`ser.features.extraction`), the library versions, and each clip's name and the
SHA-256 of its bytes: any change gives a new key, so no edit leaves stale features behind.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

import librosa
import numpy as np

from ser.config import (
    FEATURES_DIR,
)
from ser.environment import source_digest
from ser.features.extraction import FeatureParams, extract_features

if TYPE_CHECKING:  # pandas is imported where a table is built: `ser predict` starts faster
    import pandas as pd

EXTRACTION = "ser.features.extraction"  # the module whose code computes the features


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (all of RAVDESS, 123 MB of FLAC, in about 0.2 s)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def clip_identities(paths) -> list[list[str]]:
    """Each clip as ``[folder/name, SHA-256 of its bytes]``: what a content-keyed cache hashes."""
    return [[f"{Path(p).parent.name}/{Path(p).name}", file_digest(p)] for p in paths]


def cache_key(index: pd.DataFrame, params: FeatureParams) -> str:
    """Hash of the feature parameters, the code that computes them, and the clips' identity.

    A clip is identified by its name and a hash of its bytes: an edited clip gets a
    new key even when its size and modification time are unchanged, and a fresh copy
    of the same dataset (new modification times) keeps the key, so its features are
    not extracted again.
    """
    clips = clip_identities(index["path"])
    payload = {
        "params": asdict(params),
        "code": source_digest(EXTRACTION),
        "librosa": librosa.__version__,
        "clips": clips,
    }
    if params.kind == "egemaps":
        payload["opensmile"] = package_version("opensmile")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class FeatureSet:
    """Features in index order, with where they came from."""

    features: np.ndarray
    clip_ids: list[str]
    path: Path
    from_cache: bool
    seconds: float


def _cache_path(index: pd.DataFrame, params: FeatureParams, cache_dir: Path) -> tuple[Path, str]:
    key = cache_key(index, params)
    return Path(cache_dir) / f"{params.kind}_{key}.npz", key


def read_cache_file(
    path: Path, clip_ids: list[str], *, match_ids: bool = True
) -> np.ndarray | None:
    """The array cached in ``path``, or None if there is none for exactly these clips.

    With ``match_ids=False`` the stored ids are taken as the writer's labels only: for an
    array that depends on the clips' bytes alone, whose key already names them in order
    (:func:`clip_identities`), two readers that name the same clips differently (TESS's
    index and a manifest of it) share the file; only the number of rows must agree.
    """
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as stored:
        ids = stored["clip_ids"].tolist()
        found = ids == clip_ids if match_ids else len(ids) == len(clip_ids)
        return stored["features"] if found else None


def write_cache_file(
    path: Path, key: str, params: FeatureParams | dict, features, clip_ids, **about
) -> None:  # fmt: skip
    """Cache ``features`` of ``clip_ids`` in ``path`` (no pickle), with a JSON sidecar that
    records the parameters (a dataclass or a dict with their ``kind``) and ``about``, which
    may override the other fields."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".part.npz")
    np.savez(partial, features=features, clip_ids=np.array(clip_ids))
    partial.replace(path)  # a crash never leaves a half-written cache file behind
    params = params if isinstance(params, dict) else asdict(params)
    sidecar = {"key": key, "params": params, "code": source_digest(EXTRACTION),
               "librosa": librosa.__version__, "n_clips": len(clip_ids), "shape": list(features.shape),
               **about}  # fmt: skip
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")


def load_features(
    index: pd.DataFrame,
    kinds: Sequence[str | FeatureParams] = ("mfcc", "logmel"),
    *,
    cache_dir: Path = FEATURES_DIR,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, FeatureSet]:
    """Features of each kind (or parameter set) for every clip of ``index``, from the cache when
    its key matches; keyed by kind.

    Each cache file is ``<kind>_<key>.npz`` (no pickle) with a JSON sidecar that
    records the parameters; any change of parameters or clips gives a new key.
    The kinds missing from the cache are extracted together, decoding each
    clip once.
    """
    start = time.perf_counter()
    clip_ids = index["clip_id"].tolist()
    found, missing = {}, []
    for kind in kinds:
        params = kind if isinstance(kind, FeatureParams) else FeatureParams.of(kind)
        kind = params.kind
        path, key = _cache_path(index, params, cache_dir)
        cached = read_cache_file(path, clip_ids)
        if cached is not None:
            found[kind] = FeatureSet(cached, clip_ids, path, True, time.perf_counter() - start)
        else:
            missing.append((kind, params, path, key))
    if missing:
        start = time.perf_counter()
        arrays = extract_features(index["path"].tolist(), [m[1] for m in missing],
                                  workers=workers, progress=progress)  # fmt: skip
        seconds = time.perf_counter() - start
        for (kind, params, path, key), features in zip(missing, arrays, strict=True):
            write_cache_file(path, key, params, features, clip_ids)
            found[kind] = FeatureSet(features, clip_ids, path, False, seconds)
    return found


def describe_cache(cache_dir: Path = FEATURES_DIR) -> pd.DataFrame:
    """One row per cached feature file: key, shape, size and parameters."""
    rows = []
    for sidecar in sorted(Path(cache_dir).glob("*_*.json")):
        info = json.loads(sidecar.read_text())
        npz = sidecar.with_suffix(".npz")
        rows.append({
            "file": npz.name, "clips": info["n_clips"], "shape": tuple(info["shape"]),
            "MB": round(npz.stat().st_size / 1e6, 1) if npz.exists() else None,
            **info["params"], "librosa": info["librosa"],
        })  # fmt: skip
    import pandas as pd

    return pd.DataFrame(rows)
