"""Command line: ``python -m ser data`` and ``python -m ser predict FILE_OR_DIR ...``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from ser.config import AUDIO_SUFFIXES, MAX_UPLOAD_BYTES, MAX_UPLOAD_SECONDS, MODELS_DIR
from ser.data.download import DownloadError, ensure_ravdess


def run_data(args: argparse.Namespace) -> int:
    """Locate or download RAVDESS, then audit the tree."""
    from ser.data.dataset import DatasetError, audit_tree  # pandas: only this command needs it

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


def print_row(row: dict, as_json: bool) -> None:
    """One result row on the terminal: a JSON line, or a line of text (errors on stderr)."""
    if as_json:
        print(json.dumps(row), flush=True)
    elif "error" in row:
        print(f"{row['file']}: ERROR {row['error']}", file=sys.stderr, flush=True)
    elif row.get("emotion") is None:
        print(f"{row['file']}: {row['reason']}", flush=True)
    else:
        where = f" [{row['start_s']:.2f}-{row['end_s']:.2f} s]" if "start_s" in row else ""
        print(format_prediction(row["file"] + where, row["emotion"], row["probabilities"],
                                row.get("confident", True)), flush=True)  # fmt: skip


def run_predict(args: argparse.Namespace) -> int:
    """Predict every file, printing and writing each result as soon as it is ready.

    A file that fails is reported by name and the others go on.
    """
    from ser.inference import batch
    from ser.models.artifacts import label_list, read_metadata

    files, missing = collect_inputs(args.inputs)
    if not files and not missing:
        print("error: no audio files found in the given paths", file=sys.stderr)
        return 1
    if args.resume and not args.out:
        print("error: --resume needs --out (the file to continue)", file=sys.stderr)
        return 2
    try:  # fail before starting any worker if the model cannot load
        labels = label_list(read_metadata(args.model_dir))
        if not args.scheduler:
            batch.worker_predictor(str(args.model_dir))
    except (FileNotFoundError, OSError, ValueError) as error:
        print(f"error: cannot load the model: {error}", file=sys.stderr)
        return 1
    skipped = 0
    if args.resume:
        done = batch.files_in_output(args.out)
        skipped = sum(str(path) in done for path in files)
        files = [path for path in files if str(path) not in done]
    writer = (
        batch.ResultWriter(args.out, labels, timeline=args.timeline, append=args.resume)
        if args.out else None
    )  # fmt: skip
    failed = answered = 0
    show_bar = len(files) > 1 and not args.json and sys.stderr.isatty()
    try:
        for path, reason in missing:
            rows = [{"file": str(path), "error": reason}]
            failed += 1
            print_row(rows[0], args.json)
            if writer:
                writer.write(rows)
        results = batch.predict_files(
            files, str(args.model_dir), timeline=args.timeline, jobs=args.jobs,
            scheduler=args.scheduler,
        )  # fmt: skip
        for rows in tqdm(results, total=len(files), desc="predict", unit="file",
                         disable=not show_bar):  # fmt: skip
            failed += any("error" in row for row in rows)
            answered += 1
            for row in rows:
                print_row(row, args.json)
            if writer:
                writer.write(rows)
    finally:
        if writer:
            writer.close()
    if skipped:
        print(f"resumed: {skipped} files were already in {args.out}", file=sys.stderr)
    if failed:
        print(f"{failed} of {answered + len(missing)} files failed", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ser", description="Speech emotion recognition on RAVDESS."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_data_command(commands)
    add_predict_command(commands)
    add_train_command(commands)
    return parser


def add_data_command(commands) -> None:
    data = commands.add_parser(
        "data",
        help="use $RAVDESS_DIR, or download and verify the official archive into data/raw/",
        description="Use $RAVDESS_DIR if set (read-only); otherwise download the official "
        "Audio_Speech_Actors_01-24.zip, verify its MD5 and extract it into data/raw/.",
    )
    data.add_argument("--quiet", action="store_true", help="no progress bar")
    data.set_defaults(handler=run_data)


def add_predict_command(commands) -> None:
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
            "is 1 if any file failed, 0 otherwise. A recording in which the voice-activity "
            'check hears no speech gets "no speech found" ({"emotion": null, "reason": ...}).'
        ),
    )
    predict.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_DIR",
                         help="audio files, or folders searched recursively for audio files")  # fmt: skip
    predict.add_argument("--json", action="store_true",
                         help='print JSON Lines: {"file", "emotion", "confident", "probabilities": '
                         '{emotion: p}} (and "reason" when there is no speech)')  # fmt: skip
    predict.add_argument("--out", type=Path, metavar="results.csv",
                         help="also write the results to this file as they finish: CSV if it "
                         "ends in .csv (one row per file: emotion, probabilities, reason, error), "
                         "JSON Lines otherwise")  # fmt: skip
    predict.add_argument("--resume", action="store_true",
                         help="continue an interrupted run: skip the files already in --out "
                         "and append to it")  # fmt: skip
    predict.add_argument("--jobs", type=int, default=None, metavar="N",
                         help="worker processes, each with its own model and one thread "
                         "(default: one per core)")  # fmt: skip
    predict.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                         help="run on the Dask cluster of this scheduler instead of local "
                         "processes (the workers need this project installed and must see "
                         "the same file paths and model folder)")  # fmt: skip
    predict.add_argument("--timeline", action="store_true",
                         help="one row per analysis window (start_s, end_s, emotion, probabilities) "
                         "instead of one per file, in the text, --json and --out outputs")  # fmt: skip
    predict.add_argument("--model-dir", "--model", type=Path, default=MODELS_DIR,
                         help="folder with emotion_model.onnx and labels.json (default: models/; "
                         "or a folder written by `python -m ser train`)")  # fmt: skip
    predict.set_defaults(handler=run_predict)


def add_train_command(commands) -> None:
    from ser.models.heads import HEADS

    train = commands.add_parser(
        "train",
        help="train an emotion model on your own labelled recordings",
        description=(
            "Train a model on your own recordings: a CSV manifest (a path column, a label "
            "column and optionally a speaker column; relative paths are read from the "
            "manifest's folder) or a folder laid out as DIR/<label>/*.wav. The pretrained "
            "encoder's states are extracted (cached), a head is scored by cross-validation "
            "grouped by speaker (by clip without speakers: optimistic for new speakers), "
            "calibrated, fitted on every clip and written to --out with your labels: use it "
            "with `python -m ser predict --model OUT`."
        ),
    )
    train.add_argument("source", type=Path, metavar="MANIFEST_OR_DIR")
    train.add_argument("--out", type=Path, required=True, metavar="MODEL_DIR",
                       help="the model folder to write (an existing model needs --force)")  # fmt: skip
    train.add_argument("--label-column", default="label")
    train.add_argument("--speaker-column", default=None,
                       help="group the cross-validation by this column (recommended)")  # fmt: skip
    train.add_argument("--path-column", default="path")
    train.add_argument("--folds", type=int, default=5)
    train.add_argument("--head", default="linear_all", choices=sorted(n for n, h in HEADS.items() if not h.speaker_norm),
                       help="the classifier on the encoder states (default: linear_all, a "
                       "logistic regression on every layer)")  # fmt: skip
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--force", action="store_true", help="replace a model already in --out")
    train.add_argument("--base", choices=["ravdess"],
                       help="also train on RAVDESS's clips of the labels you share with it "
                       "(RAVDESS's names: neutral, calm, happy, sad, angry, fearful, disgust, "
                       "surprised; needs RAVDESS_DIR): helps most with few clips")  # fmt: skip
    train.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="extract the encoder states on this Dask cluster (the workers need "
                       "this project installed and must see the same paths); the head trains here")  # fmt: skip
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    from ser.training.own_data import main_train

    return main_train(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
