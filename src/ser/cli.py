"""Command line: ``python -m ser data`` (and ``ser data`` once installed)."""

from __future__ import annotations

import argparse
import sys

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
