"""Metrics, baselines and the metrics file: everything the evaluation reports.

UA (unweighted accuracy, "uar") is the mean of per-class recall, so neutral,
with half the clips of the other emotions, counts as much as any of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ser.config import EMOTION_NAMES

# The original project's claims, checked per protocol.
TARGETS = {"accuracy": 0.80, "macro_f1": 0.80, "min_class_recall": 0.75}
HEADLINE = ("accuracy", "uar", "macro_f1")


def summarise(y_true, y_pred, labels=EMOTION_NAMES) -> dict:
    """Accuracy, UA (mean per-class recall), macro-F1 and per-class recall."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    present = [label for label in labels if label in set(y_true)]
    _, recall, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=present, zero_division=0
    )
    return {
        "n_clips": int(len(y_true)),
        "accuracy": float(np.mean(y_true == y_pred)),
        "uar": float(np.mean(recall)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        ),
        "per_class_recall": {label: float(r) for label, r in zip(present, recall, strict=True)},
    }


def per_class_table(y_true, y_pred, labels=EMOTION_NAMES) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(labels, name="emotion"),
    )


def confusion(y_true, y_pred, labels=EMOTION_NAMES, normalise: bool = True) -> pd.DataFrame:
    """Confusion matrix (rows: true emotion), row-normalised to recall by default."""
    matrix = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    if normalise:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    return pd.DataFrame(
        matrix, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted")
    )


def fold_summary(predictions: pd.DataFrame) -> dict:
    """Per-fold metrics plus their mean and standard deviation (over folds)."""
    folds = []
    for fold, part in predictions.groupby("fold", sort=True):
        folds.append({"fold": int(fold), **summarise(part["emotion"], part["predicted"])})
    block = {"folds": folds}
    for name, reducer in (("mean", np.mean), ("std", np.std)):
        block[name] = {key: float(reducer([f[key] for f in folds])) for key in HEADLINE}
        block[name]["per_class_recall"] = {
            label: float(reducer([f["per_class_recall"][label] for f in folds]))
            for label in folds[0]["per_class_recall"]
        }
    block["pooled"] = summarise(predictions["emotion"], predictions["predicted"])
    return block


def group_accuracy(predictions: pd.DataFrame, index: pd.DataFrame, by: str) -> pd.DataFrame:
    """Accuracy (and clip count) per value of an index column: actor, gender, intensity, ..."""
    merged = predictions.merge(index[["clip_id", by]], on="clip_id", how="left")
    merged["correct"] = merged["emotion"] == merged["predicted"]
    return merged.groupby(by)["correct"].agg(accuracy="mean", clips="size").reset_index()


def target_checks(summaries: dict[str, dict]) -> pd.DataFrame:
    """Pass/fail of the original targets (accuracy, macro-F1, every class recall) per protocol."""
    rows = []
    for protocol, block in summaries.items():
        recall = block["per_class_recall"]
        worst = min(recall, key=recall.get)
        for target, value, threshold in [
            (f"accuracy > {TARGETS['accuracy']:.0%}", block["accuracy"], TARGETS["accuracy"]),
            (f"macro-F1 > {TARGETS['macro_f1']:.0%}", block["macro_f1"], TARGETS["macro_f1"]),
            (f"every class recall > {TARGETS['min_class_recall']:.0%} (lowest: {worst})",
             recall[worst], TARGETS["min_class_recall"]),
        ]:  # fmt: skip
            rows.append({"protocol": protocol, "target": target, "value": round(value, 3),
                         "result": "pass" if value > threshold else "fail"})  # fmt: skip
    return pd.DataFrame(rows).set_index(["protocol", "target"])


def clip_statistics(features: np.ndarray) -> np.ndarray:
    """Per-clip MFCC mean and standard deviation over frames: ``(n, 2 * n_mfcc)``."""
    return np.concatenate([features.mean(axis=1), features.std(axis=1)], axis=1)


def baseline_predictions(
    index: pd.DataFrame, features: np.ndarray, splits: list, seed: int
) -> dict:
    """Majority-class and logistic-regression predictions on the given splits.

    Both fit on all training clips of a split (training plus validation part:
    they have nothing to stop early) and predict its test clips.
    """
    labels = index["emotion"].to_numpy()
    statistics = clip_statistics(features)
    out = {"majority": [], "logistic_regression": []}
    for split in splits:
        train = np.r_[split.train, split.validation]
        values, counts = np.unique(labels[train], return_counts=True)
        majority = values[np.argmax(counts)]
        classifier = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed)
        )
        classifier.fit(statistics[train], labels[train])
        for name, predicted in (
            ("majority", np.full(len(split.test), majority)),
            ("logistic_regression", classifier.predict(statistics[split.test])),
        ):
            out[name].append(pd.DataFrame({
                "clip_id": index["clip_id"].to_numpy()[split.test], "fold": split.fold,
                "emotion": labels[split.test], "predicted": predicted,
            }))  # fmt: skip
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}


def protocol_block(predictions: pd.DataFrame, protocol: str) -> dict:
    """The metrics.json block of one protocol: single split, or folds with mean/std."""
    if protocol == "speaker_independent":
        return fold_summary(predictions)
    return summarise(predictions["emotion"], predictions["predicted"])


def headline(block: dict) -> dict:
    """The numbers a protocol block is judged by (the mean over folds when there are folds)."""
    return block["mean"] if "mean" in block else block


def write_metrics(metrics: dict, path: Path) -> Path:
    """Write ``metrics.json`` (sorted keys, stable float formatting)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rounded = json.loads(json.dumps(metrics), parse_float=lambda text: round(float(text), 6))
    path.write_text(json.dumps(rounded, indent=2, sort_keys=True) + "\n")
    return path


def top_confusions(matrix: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """The ``k`` largest off-diagonal cells of a row-normalised confusion matrix."""
    pairs = matrix.stack().rename("share of true class").reset_index()
    pairs = pairs[pairs["true"] != pairs["predicted"]]
    return pairs.sort_values("share of true class", ascending=False).head(k).reset_index(drop=True)


def metrics_table(blocks: dict[str, dict]) -> pd.DataFrame:
    """Accuracy, UA and macro-F1 per named block (mean ± std where there are folds)."""
    rows = []
    for name, block in blocks.items():
        row = {"": name}
        for key in HEADLINE:
            value = headline(block)[key]
            row[key] = (
                f"{value:.3f} ± {block['std'][key]:.3f}" if "std" in block else f"{value:.3f}"
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("")


def model_card(metrics: dict, plan: dict, versions: dict) -> str:
    """The shipped model's card, in Markdown, with its held-out numbers filled in."""
    shipped = metrics["shipped_model"]
    si = metrics["protocols"].get("speaker_independent", {})
    recall = "\n".join(
        f"| {emotion} | {value:.3f} |" for emotion, value in shipped["per_class_recall"].items()
    )
    si_line = (
        f"- Speaker-independent cross-validation (6 EmoBox folds, same recipe): UA "
        f"{si['mean']['uar']:.3f} ± {si['std']['uar']:.3f}, accuracy {si['mean']['accuracy']:.3f} "
        f"± {si['std']['accuracy']:.3f} (mean ± std over folds).\n"
        if "mean" in si
        else ""
    )
    return f"""# Model card: `ser_bilstm.keras`

Speech emotion recognition on RAVDESS: 40 MFCCs × 174 frames → BiLSTM → 8 emotions.
Generated by `notebooks/04_evaluation.ipynb`; every number below comes from `reports/metrics.json`.

## Model
- Architecture: Input(174, 40) → Bidirectional(LSTM 128, return sequences) → Dropout 0.5 → LSTM 64 → Dropout 0.5 → Dense 64 ReLU → Dense 8 softmax (259,912 parameters), Keras 3 `.keras` format.
- Input: mono audio resampled to 22,050 Hz, fitted to 4.02 s (trailing zeros or cut at the end), 40 MFCCs (n_fft 2048, hop 512), standardised per coefficient with `scaler.json`. Longer recordings: see the predictor (windows averaged).
- Output: probabilities of {", ".join(shipped["labels"])} (`labels.json` maps index to emotion).

## Training
- Data: RAVDESS speech (Livingstone & Russo 2018, CC BY-NC-SA 4.0), actors {", ".join(map(str, shipped["trained_on_actors"]))} (EmoBox folds 2-6); actors {", ".join(map(str, shipped["validation_actors"]))} of these served as the early-stopping validation set.
- Adam, sparse categorical cross-entropy, batch {plan["batch_size"]}, at most {plan["epochs"]} epochs, early stopping on validation loss (patience {plan["patience"]}); stopped after {shipped["epochs_trained"]} epochs. Seed {shipped["seed"]}.
- Versions: TensorFlow {versions.get("tensorflow")}, Keras {versions.get("keras")}, librosa {versions.get("librosa")}, NumPy {versions.get("numpy")}.{" **Quick run: not a usable model.**" if plan.get("quick") else ""}

## Held-out evaluation
Actors {", ".join(map(str, shipped["test_actors"]))} (EmoBox fold 1) were never used for training, validation or any choice: {shipped["n_clips"]} clips.

- Accuracy {shipped["accuracy"]:.3f}, UA (mean per-class recall) {shipped["uar"]:.3f}, macro-F1 {shipped["macro_f1"]:.3f}.
{si_line}
| emotion | recall |
| --- | --- |
{recall}

## Intended use and limits
- For demonstration, teaching and research on acted emotional speech. Not for decisions about people.
- Trained on 20 of the 24 professional North-American English actors of RAVDESS, reading two fixed sentences in a studio. Expect much lower accuracy on spontaneous speech, other languages and accents, children, noisy or phone-quality audio, and on emotions expressed subtly.
- Eight acted categories only; real affect is not categorical, and "neutral"/"calm" are hard to tell apart even for people.
- With four held-out actors, the held-out numbers have wide uncertainty; the cross-validated mean ± std is the better estimate.
"""


def evaluate_shipped_model(index: pd.DataFrame, features: np.ndarray, model_dir: Path) -> dict:
    """Re-evaluate the saved model on the actors it never saw (from ``labels.json``)."""
    from ser import modeling

    model, labels, scaler = modeling.load_artifacts(model_dir)
    info = json.loads((Path(model_dir) / modeling.LABELS_FILE).read_text())
    held_out = info["held_out_actors"]
    positions = np.flatnonzero(index["actor"].isin(held_out).to_numpy())
    probabilities = modeling.predict_proba(model, scaler.transform(features[positions]))
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    block = summarise(index["emotion"].to_numpy()[positions], predicted)
    return {
        "test_actors": held_out, "labels": labels,
        **{k: info[k] for k in ("trained_on_actors", "validation_actors", "seed", "epochs_trained")},
        **block,
    }  # fmt: skip


def discussion(metrics: dict, matrices: dict[str, pd.DataFrame]) -> str:
    """A short Markdown discussion whose every number is read from ``metrics``."""
    protocols = metrics["protocols"]
    lines = []
    if {"random", "speaker_independent"} <= set(protocols):
        rnd, si = headline(protocols["random"]), headline(protocols["speaker_independent"])
        lines.append(
            f"- **Speaker leakage.** The random split scores accuracy {rnd['accuracy']:.1%} and "
            f"UA {rnd['uar']:.1%}; held-out speakers score {si['accuracy']:.1%} and {si['uar']:.1%} "
            f"(mean over folds), a gap of {100 * (rnd['accuracy'] - si['accuracy']):.1f} accuracy "
            "points. In the random split every test actor also has clips in training, so part "
            "of what it measures is recognising a familiar voice; only the speaker-independent "
            "number says what to expect for a new speaker."
        )
    for protocol, matrix in matrices.items():
        pairs = top_confusions(matrix, 3)
        listed = "; ".join(
            f"{r.true} → {r.predicted} ({r._3:.0%} of {r.true})" for r in pairs.itertuples()
        )
        recall = headline(protocols[protocol])["per_class_recall"]
        best, worst = max(recall, key=recall.get), min(recall, key=recall.get)
        lines.append(
            f"- **{protocol}: most confused** {listed}. Best recognised: {best} "
            f"({recall[best]:.0%} recall); worst: {worst} ({recall[worst]:.0%})."
        )
    for protocol, blocks in metrics.get("baselines", {}).items():
        model = headline(protocols[protocol])["uar"]
        logistic = headline(blocks["logistic_regression"])["uar"]
        majority = headline(blocks["majority"])["uar"]
        verdict = (
            "The BiLSTM beats both."
            if model > logistic
            else "**The BiLSTM does not beat the logistic regression.** A likely reason: with "
            "this little data, 80 per-clip statistics generalise better than 174 × 40 frames "
            "through a 260k-parameter recurrent network stopped early on a small validation set."
        )
        lines.append(
            f"- **{protocol}: baselines.** UA of the BiLSTM {model:.1%}, logistic regression on "
            f"per-clip MFCC mean and std {logistic:.1%}, majority class {majority:.1%} "
            f"(chance for 8 classes is 12.5%). {verdict}"
        )
    return "\n".join(lines)


def fold_table(block: dict, folds: dict[int, tuple[int, ...]]) -> pd.DataFrame:
    """One row per fold: its held-out actors and headline metrics."""
    rows = [
        {"fold": f["fold"], "test actors": ", ".join(map(str, folds[f["fold"]])),
         "clips": f["n_clips"], **{k: round(f[k], 3) for k in HEADLINE}}
        for f in block["folds"]
    ]  # fmt: skip
    return pd.DataFrame(rows).set_index("fold")


def side_by_side(tables: dict[str, pd.DataFrame], by: str) -> pd.DataFrame:
    """Group accuracies of several protocols as columns."""
    return pd.concat({p: t.set_index(by)["accuracy"] for p, t in tables.items()}, axis=1)
