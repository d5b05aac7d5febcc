"""The pretrained-encoder family in notebook 04: its scores on both protocols, calibration,
TESS, robustness of the shipped model and speaker enrolment, as :class:`EncoderResult`.

Test actors are scored here, once, for the configuration notebook 03 chose on validation
actors (:mod:`ser.training.encoder_family`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES
from ser.data.splits import protocol_splits
from ser.evaluation.tables import ModelResult, ProtocolResult
from ser.models.heads import enrolment_centres, fit_head
from ser.scoring import unweighted_accuracy
from ser.training.encoder_family import BY_NAME, load_run, read_family

ENROLMENT_HEAD = "linear_all_speaker_norm"  # bench/explore_enrolment.py (validation actors)
ENROLMENT_CLIPS = (1, 5, 10, 20)
CALM_SENTENCES = ("neutral", "calm")


@dataclass
class EncoderResult:
    """What ``metrics.json`` keeps of the encoder family."""

    model: str  # the family's best head by the rule: its row in the comparison
    shipped: str  # the winner of the family table: what models/ holds
    rule: str
    selection: list[dict]  # the family table: validation actors only
    calibration: dict = field(default_factory=dict)  # ser.models.calibration.CalibrationResult
    tess: dict = field(default_factory=dict)  # ua, recall (seven emotions), clips
    robustness: dict = field(default_factory=dict)  # condition -> uar, drop (shipped model)
    enrolment: list[dict] = field(default_factory=list)  # condition, UA mean and std, per fold

    @classmethod
    def from_dict(cls, record: dict) -> EncoderResult:
        return cls(**record)


def family_result(index: pd.DataFrame, runs_dir: Path) -> tuple[EncoderResult, ModelResult, dict]:
    """The family record, the best head's :class:`ModelResult` (both protocols) and its
    prediction frames by protocol."""
    family = read_family(runs_dir)
    name = family["best_encoder"]
    actors = dict(zip(index["clip_id"], index["actor"].astype(int), strict=True))
    frames = {p: load_run(runs_dir, name, p).predictions for p in ("speaker_independent", "random")}
    result = ModelResult(
        name, "encoder", f"Whisper tiny.en encoder, frozen: {BY_NAME[name].summary()}",
        {p: ProtocolResult.from_predictions(f, p, actors) for p, f in frames.items()},
    )  # fmt: skip
    record = EncoderResult(name, family["winner"], family["rule"], family["candidates"])
    return record, result, frames


def calibration(runs_dir: Path, name: str):
    """Each fold's temperature and threshold fitted on its validation actors, judged on its
    test actors (:func:`ser.models.calibration.evaluate_calibration`)."""
    from ser.models.calibration import evaluate_calibration

    run = load_run(runs_dir, name, "speaker_independent")
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


def enrolment_record(table: pd.DataFrame) -> list[dict]:
    return [
        {"condition": c, **{k: float(v) for k, v in row.items()}} for c, row in table.iterrows()
    ]


def robustness_record(table: pd.DataFrame, column: str) -> dict:
    """One model's UA and drop from clean per condition (a column of the robustness table)."""
    return {condition: {"uar": float(uar), "drop": float(table.loc["clean", column] - uar)}
            for condition, uar in table[column].items()}  # fmt: skip


# Issue 27's targets for the encoder family (the shipped model for the robustness rows).
SI_UA_REQUIRED, SI_UA_AIM = 0.76, 0.80
RANDOM_ACCURACY, RANDOM_MACRO_F1, RANDOM_MIN_RECALL = 0.90, 0.90, 0.80
TESS_UA, TESS_MIN_RECALL = 0.65, 0.30
ENROLMENT_TARGETS = {"neutral and calm clips": 0.82, "10 random clips": 0.84}
ROBUSTNESS_DROPS = (("20 dB", 0.10), ("10 dB", 0.20), ("silence padding", 0.02))
ECE_AFTER = 0.05


def target_rows(metrics) -> list[dict]:
    """Each encoder target: what it asks, the value reached, the threshold and pass or fail
    (``lower``: the value must not exceed the threshold)."""
    encoder = metrics.encoder
    if encoder is None:
        return []
    model = metrics.models[encoder.model]
    rows = []

    def add(target, value, threshold, lower=False, name=encoder.model):
        passed = value <= threshold if lower else value >= threshold
        rows.append({"model": name, "target": target, "value": float(value),
                     "threshold": threshold, "result": "pass" if passed else "fail"})  # fmt: skip

    si = model.protocols["speaker_independent"].mean["uar"]
    add(f"speaker-independent UA ≥ {SI_UA_REQUIRED:.2f} (required)", si, SI_UA_REQUIRED)
    add(f"speaker-independent UA ≥ {SI_UA_AIM:.2f} (aim)", si, SI_UA_AIM)
    random = model.protocols["random"]
    recall = random.pooled.per_class_recall
    worst = min(recall, key=recall.get)
    add(f"random split: accuracy ≥ {RANDOM_ACCURACY:.0%}", random.mean["accuracy"], RANDOM_ACCURACY)
    add(f"random split: macro-F1 ≥ {RANDOM_MACRO_F1:.0%}", random.mean["macro_f1"], RANDOM_MACRO_F1)
    add(f"random split: every class recall ≥ {RANDOM_MIN_RECALL:.0%} (lowest: {worst})",
        recall[worst], RANDOM_MIN_RECALL)  # fmt: skip
    if encoder.tess:
        add(f"TESS, seven emotions: UA ≥ {TESS_UA:.2f}", encoder.tess["ua"], TESS_UA)
        low = min(encoder.tess["recall"], key=encoder.tess["recall"].get)
        add(f"TESS: every emotion's recall ≥ {TESS_MIN_RECALL:.2f} (lowest: {low})",
            encoder.tess["recall"][low], TESS_MIN_RECALL)  # fmt: skip
    enrolled = {row["condition"]: row["UA"] for row in encoder.enrolment}
    for condition, threshold in ENROLMENT_TARGETS.items():
        if condition in enrolled:
            add(f"enrolment from {condition}: UA ≥ {threshold:.2f}", enrolled[condition], threshold)
    for suffix, allowed in ROBUSTNESS_DROPS:
        drops = {c: row["drop"] for c, row in encoder.robustness.items() if c.endswith(suffix)}
        if drops:
            worst = max(drops, key=drops.get)
            add(f"robustness: every {suffix} condition within {allowed:.2f} of clean "
                f"(worst: {worst})", drops[worst], allowed, lower=True, name=encoder.shipped)  # fmt: skip
    if encoder.calibration:
        add(f"calibration: ECE ≤ {ECE_AFTER:.2f} after scaling (held-out actors)",
            encoder.calibration["ece_after"], ECE_AFTER, lower=True)  # fmt: skip
    return rows


def tess_evaluation(metrics, index, features, plan, runs_dir: Path, cnn_dir: Path, root: Path):
    """TESS for every family: the encoder's best head (the shipped fold's, as notebook 03 kept its
    answers), the CNN's model, the
    BiLSTM and the baselines (:func:`ser.evaluation.tess_results.tess_evaluation`). The shipped model's row is
    labelled "ours (shipped)". Fills ``metrics.tess`` and ``metrics.encoder.tess``."""
    from ser.evaluation import tess_results

    encoder = metrics.encoder
    encoder_label = ("ours (shipped)" if encoder.shipped == encoder.model
                     else "pretrained encoder") + f": {encoder.model}"  # fmt: skip
    cnn_label = "ours (shipped)" if encoder.shipped not in BY_NAME else "from-scratch CNN"
    run = load_run(runs_dir, encoder.model, "speaker_independent")
    answers = {encoder_label: run.tess_answers[plan.shipped_fold]}  # the shipped fold's head
    result = tess_results.tess_evaluation(index, features, plan, runs_dir, cnn_dir, root, cnn_label,
                                  extra=answers)  # fmt: skip
    metrics.tess = result.record()
    encoder.tess = {"ua": result.ua[encoder_label], "recall": result.recall[encoder_label],
                    "clips": len(result.truth)}  # fmt: skip
    return result
