"""The pretrained-encoder family in notebook 04: its best head's scores on both protocols, its
calibration, its TESS answers and speaker enrolment.

Test actors are scored here, once, for the configuration notebook 03 chose on validation
actors (:mod:`ser.training.encoder_family`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES
from ser.data.splits import protocol_splits
from ser.evaluation.schema import EncoderResult, EnrolmentResult, ModelResult, ProtocolResult
from ser.models.heads import enrolment_centres, fit_head
from ser.scoring import unweighted_accuracy
from ser.training.encoder_family import BY_NAME, load_encoder_run, read_family
from ser.training.plan import MODEL_NAMES

ENROLMENT_HEAD = "linear_all_speaker_norm"  # bench/explore_enrolment.py (validation actors)
ENROLMENT_CLIPS = (1, 5, 10, 20)
CALM_SENTENCES = ("neutral", "calm")


def family_result(index: pd.DataFrame, runs_dir: Path) -> tuple[EncoderResult, ModelResult, dict]:
    """The family record, the best head's :class:`ModelResult` (both protocols) and its
    prediction frames by protocol."""
    family = read_family(runs_dir)
    name = family["best_encoder"]
    actors = dict(zip(index["clip_id"], index["actor"].astype(int), strict=True))
    frames = {
        p: load_encoder_run(runs_dir, name, p).predictions
        for p in ("speaker_independent", "random")
    }
    result = ModelResult(
        name, MODEL_NAMES.get(name, name), "encoder",
        f"Whisper tiny.en encoder, frozen: {BY_NAME[name].summary()}",
        {p: ProtocolResult.from_predictions(f, p, actors) for p, f in frames.items()},
    )  # fmt: skip
    record = EncoderResult(name, family["winner"], family["rule"], family["candidates"])
    return record, result, frames


def calibration(runs_dir: Path, name: str):
    """Each fold's temperature and threshold fitted on its validation actors, judged on its
    test actors (:func:`ser.models.calibration.evaluate_calibration`)."""
    from ser.models.calibration import evaluate_calibration

    run = load_encoder_run(runs_dir, name, "speaker_independent")
    return evaluate_calibration(run.validation, run.predictions)


def enrolment(index: pd.DataFrame, states: np.ndarray, plan) -> pd.DataFrame:
    """Speaker-independent UA on each fold's test actors when each clip is centred on its
    speaker's mean states from a few *other* clips of that speaker (no labels): ``k`` random
    clips, or the speaker's neutral and calm clips ("read this calmly").

    The head (:data:`ENROLMENT_HEAD`) is trained as it is enrolled: training speakers are
    centred on all their clips, or on their neutral and calm clips for that condition.
    """
    labels, speakers = index["emotion"].to_numpy(), index["actor"].to_numpy()
    rows = []
    for split in protocol_splits(index, "speaker_independent", plan.seed, folds=plan.folds):
        rng = np.random.default_rng(plan.seed + split.fold)
        train, test = split.train, split.test
        for condition, k, emotions in (
            *((f"{k} random clip{'s' if k > 1 else ''}", k, None) for k in ENROLMENT_CLIPS),
            ("neutral and calm clips", None, CALM_SENTENCES),
        ):
            if k is None or k == ENROLMENT_CLIPS[0]:  # one head per way of enrolling
                mask = None if emotions is None else np.isin(labels[train], emotions)
                centres = enrolment_centres(states[train], speakers[train], k=None, rng=rng,
                                            enrol_mask=mask)  # fmt: skip
                head = fit_head(ENROLMENT_HEAD, states[train], labels[train], speakers[train],
                                classes=EMOTION_NAMES, centres=centres,
                                seed=plan.seed + split.fold)  # fmt: skip
            mask = None if emotions is None else np.isin(labels[test], emotions)
            centres = enrolment_centres(states[test], speakers[test], k=k, rng=rng,
                                        enrol_mask=mask)  # fmt: skip
            predicted = head.predict(states[test], centres=centres)
            rows.append({"condition": condition, "fold": split.fold,
                         "UA": unweighted_accuracy(labels[test], predicted)})  # fmt: skip
    frame = pd.DataFrame(rows)
    table = frame.pivot(index="condition", columns="fold", values="UA")
    table = table.rename(columns=lambda f: f"fold {f}")
    table.insert(0, "± std over folds", frame.groupby("condition")["UA"].std(ddof=0))
    table.insert(0, "UA", frame.groupby("condition")["UA"].mean())
    order = [row["condition"] for row in rows[: len(ENROLMENT_CLIPS) + 1]]
    return table.loc[order]


def enrolment_results(table: pd.DataFrame) -> list[EnrolmentResult]:
    """:func:`enrolment`'s table as ``metrics.json`` keeps it."""
    folds = [c for c in table.columns if c.startswith("fold ")]
    return [
        EnrolmentResult(
            str(condition),
            float(row["UA"]),
            float(row["± std over folds"]),
            {int(c.split()[1]): float(row[c]) for c in folds},
        )  # fmt: skip
        for condition, row in table.iterrows()
    ]
