"""Command line: ``python -m ser data`` and ``python -m ser predict FILE_OR_DIR ...``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from ser.audio import AudioError
from ser.config import AUDIO_SUFFIXES, MAX_UPLOAD_BYTES, MAX_UPLOAD_SECONDS, MODELS_DIR
from ser.dataset import DatasetError, audit_tree
from ser.download import DownloadError, ensure_ravdess


def run_data(args: argparse.Namespace) -> int:
    """Locate or download RAVDESS, then audit the tree."""
    try:
        root = ensure_ravdess(progress=not args.quiet)
        audit = audit_tree(root)
    except (DownloadError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not audit.ok:
        print(f"RAVDESS at {root} has problems:", file=sys.stderr)
        for line in audit.problems:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print(
        f"RAVDESS ready: {len(audit.clips)} clips from {len(audit.actor_counts)} actors in {root}"
    )
    return 0


def collect_inputs(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to predict: each file named, and every audio file below each folder named.

    Returns the files and the (path, reason) pairs of arguments that do not exist.
    """
    files, missing = [], []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
            )  # fmt: skip
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            missing.append((path, "no such file or directory"))
    return files, missing


def format_prediction(
    file: str, emotion: str, probabilities: dict[str, float], confident: bool = True
) -> str:
    ranked = sorted(probabilities.items(), key=lambda item: -item[1])
    answer = emotion if confident else f"unsure (best guess {emotion})"
    return f"{file}: {answer}  (" + "  ".join(f"{k} {v:.2f}" for k, v in ranked) + ")"


def prediction_rows(prediction, timeline: bool) -> list[dict]:
    """One row for the recording, or with ``timeline`` one per analysis window."""
    if not timeline:
        return [prediction.as_dict()]
    return [{"file": prediction.source, **window.as_dict()} for window in prediction.timeline]


def run_predict(args: argparse.Namespace) -> int:
    """Predict every file; report each failure by name and keep going."""
    files, failures = collect_inputs(args.inputs)
    if not files and not failures:
        print("error: no audio files found in the given paths", file=sys.stderr)
        return 1
    from ser.predict import Predictor  # onnxruntime starts only when there is work

    try:
        predictor = Predictor(args.model_dir)
    except (FileNotFoundError, OSError, ValueError) as error:
        print(f"error: cannot load the model: {error}", file=sys.stderr)
        return 1
    rows = []
    show_bar = len(files) > 1 and not args.json and sys.stderr.isatty()
    for path, reason in failures:
        rows.append({"file": str(path), "error": reason})
    for path in tqdm(files, desc="predict", unit="file", disable=not show_bar):
        try:
            rows.extend(prediction_rows(predictor.predict(path), args.timeline))
        except AudioError as error:
            rows.append({"file": str(path), "error": str(error)})
        except Exception as error:  # keep going: one bad file must not stop a folder
            rows.append({"file": str(path), "error": f"{type(error).__name__}: {error}"})
    for row in rows:
        if args.json:
            print(json.dumps(row))
        elif "error" in row:
            print(f"{row['file']}: ERROR {row['error']}", file=sys.stderr)
        else:
            where = f" [{row['start_s']:.2f}-{row['end_s']:.2f} s]" if "start_s" in row else ""
            print(format_prediction(row["file"] + where, row["emotion"], row["probabilities"],
                                    row.get("confident", True)))  # fmt: skip
    if args.out:
        write_csv(rows, args.out, predictor.labels, timeline=args.timeline)
    failed = sum("error" in row for row in rows)
    if failed:
        print(f"{failed} of {len(rows)} files failed", file=sys.stderr)
    return 1 if failed else 0


def write_csv(rows: list[dict], path: Path, labels: list[str], timeline: bool = False) -> None:
    """One line per file (or per window with ``timeline``): file, [start_s, end_s,] emotion,
    confident, a probability column per emotion, error."""
    where = ["start_s", "end_s"] if timeline else []
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", *where, "emotion", *(["confident"] if not timeline else []),
                         *(f"p_{label}" for label in labels), "error"])  # fmt: skip
        for row in rows:
            probabilities = row.get("probabilities", {})
            writer.writerow([
                row["file"], *(row.get(key, "") for key in where), row.get("emotion", ""),
                *([row.get("confident", "")] if not timeline else []),
                *(f"{probabilities[label]:.6f}" if label in probabilities else "" for label in labels),
                row.get("error", ""),
            ])  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ser", description="Speech emotion recognition on RAVDESS."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser(
        "data",
        help="use $RAVDESS_DIR, or download and verify the official archive into data/raw/",
        description="Use $RAVDESS_DIR if set (read-only); otherwise download the official "
        "Audio_Speech_Actors_01-24.zip, verify its MD5 and extract it into data/raw/.",
    )
    data.add_argument("--quiet", action="store_true", help="no progress bar")
    data.set_defaults(handler=run_data)

    predict = commands.add_parser(
        "predict",
        help="predict the emotion of audio files (or every audio file in a folder)",
        description=(
            "Predict the emotion of each recording with the shipped model. Reads WAV, FLAC, OGG, "
            "AIFF and MP3 at any sample rate, mono or stereo. A recording longer than the model's "
            "4.02 s window is analysed in half-overlapping windows whose probabilities are averaged "
            "(--timeline shows each window). Probabilities are calibrated on the model's validation "
            "actors; below the model's threshold the answer is 'unsure'. "
            f"Recordings over {MAX_UPLOAD_SECONDS:.0f} s or {MAX_UPLOAD_BYTES // 2**20} MB are refused."
        ),
        epilog=(
            'A file that fails prints its name and the reason (on stderr, or as {"file", '
            '"error"} with --json); the other files are still processed, and the exit code '
            "is 1 if any file failed, 0 otherwise."
        ),
    )
    predict.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_DIR",
                         help="audio files, or folders searched recursively for audio files")  # fmt: skip
    predict.add_argument("--json", action="store_true",
                         help='print JSON Lines: {"file", "emotion", "confident", "probabilities": {emotion: p}}')  # fmt: skip
    predict.add_argument("--out", type=Path, metavar="results.csv",
                         help="also write one CSV row per file (probabilities and errors)")  # fmt: skip
    predict.add_argument("--timeline", action="store_true",
                         help="one row per analysis window (start_s, end_s, emotion, probabilities) "
                         "instead of one per file, in the text, --json and --out outputs")  # fmt: skip
    predict.add_argument("--model-dir", type=Path, default=MODELS_DIR,
                         help="folder with emotion_model.onnx and labels.json (default: models/)")  # fmt: skip
    predict.set_defaults(handler=run_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
