"""Notebook 04's tables and sentences, generated from ``metrics.json``: no number is typed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ser.evaluation.schema import HEADLINE, Metrics
from ser.evaluation.tables import CHANCE_UA, top_confusions
from ser.evaluation.targets import TESS_MIN_RECALL, target_rows
from ser.reporting.wording import shipped_calibration


def svm_c_table(metrics: Metrics) -> pd.DataFrame:
    """The C each fold's validation actors chose for the eGeMAPS SVM."""
    chosen = metrics.models["egemaps_svm"].svm_c_per_fold
    rows = [
        {"protocol": protocol, "split": f"fold {fold}" if int(fold) else "random split", "C": c}
        for protocol, by_fold in chosen.items()
        for fold, c in by_fold.items()
    ]
    return pd.DataFrame(rows).pivot(index="protocol", columns="split", values="C")


def family_selection_table(metrics: Metrics) -> pd.DataFrame:
    """Notebook 03's family table (validation actors only), as ``metrics.json`` keeps it."""
    table = pd.DataFrame(metrics.encoder.selection).set_index("candidate")
    return table.drop(columns=["what it is"])


def shipped_table(metrics: Metrics) -> pd.DataFrame:
    """The shipped model's (and the CNN's own model's) held-out scores next to their
    cross-validated numbers."""
    rows = []
    for label, checked, name in (
        ("shipped model", metrics.shipped, metrics.shipped_family()),
        ("the CNN's own model", metrics.cnn_check, metrics.ours),
    ):
        if checked is None or (label != "shipped model" and name == metrics.shipped_family()):
            continue
        si = metrics.si(name)
        difference = checked.onnx_max_difference
        rows += [
            {"": f"{label} on actors {', '.join(map(str, checked.scores.test_actors))}",
             **{k: round(getattr(checked.scores, k), 3) for k in HEADLINE},
             "ONNX vs Keras, largest difference": f"{difference:.1e}" if difference else ""},
            {"": f"{metrics.label(name)}, mean over {len(si.folds)} folds",
             **{k: round(si.mean[k], 3) for k in HEADLINE}, "ONNX vs Keras, largest difference": ""},
        ]  # fmt: skip
    return pd.DataFrame(rows).set_index("")


def discussion(metrics: Metrics, matrices: dict[str, pd.DataFrame], top: int = 3) -> str:
    """A short Markdown discussion whose every number is read from ``metrics``."""
    lines = []
    for name in (metrics.shipped_family(), metrics.ours):
        model = metrics.models[name]
        si, rnd = model.protocols["speaker_independent"], model.protocols.get("random")
        if rnd is None:
            continue
        lines.append(
            f"- **Speaker leakage.** {model.label} scores UA {rnd.mean['uar']:.1%} on "
            f"the random split and {si.mean['uar']:.1%} on held-out speakers, a gap of "
            f"{100 * (rnd.mean['uar'] - si.mean['uar']):.1f} points. In the random split every test "
            "actor also has clips in training, so part of what it measures is recognising a "
            "familiar voice; only the speaker-independent number says what to expect for a new speaker."
        )
        break
    for title, matrix in matrices.items():
        pairs = top_confusions(matrix, top)
        listed = "; ".join(
            f"{r.true} → {r.predicted} ({r._3:.0%} of {r.true})" for r in pairs.itertuples()
        )
        diagonal = pd.Series(np.diag(matrix.to_numpy()), index=matrix.index)
        lines.append(
            f"- **{title}: most confused** {listed}. Best recognised: {diagonal.idxmax()} "
            f"({diagonal.max():.0%} recall); worst: {diagonal.idxmin()} ({diagonal.min():.0%})."
        )
    ua = {name: metrics.si(name).mean["uar"] for name in metrics.models}
    others = ", ".join(
        f"{metrics.label(n)} {ua[n]:.1%}" for n in (metrics.reference, *metrics.baselines())
    )
    lines.append(
        f"- **Against the reference and the baselines** (speaker-independent UA): "
        f"{metrics.label(metrics.shipped_family())} {ua[metrics.shipped_family()]:.1%}, "
        f"{metrics.label(metrics.ours)} {ua[metrics.ours]:.1%}; {others} (chance {CHANCE_UA:.1%})."
    )
    return "\n".join(lines)


def calibration_summary(metrics: Metrics, shipped_model_calibration: dict | None) -> str:
    """What calibration changed on the shipped family's held-out actors, and what the shipped
    model uses."""
    c = shipped_calibration(metrics)
    text = (
        f"On the held-out actors of the {len(c.temperature)} folds, temperature scaling takes "
        f"the expected calibration error from **{c.ece_before:.3f}** to **{c.ece_after:.3f}** "
        f"(negative log-likelihood {c.nll_before:.3f} → {c.nll_after:.3f}); it never changes "
        f"the predicted emotion. Each fold's threshold is the lowest confidence at which that "
        f"fold's validation clips reach {c.target_accuracy:.0%} accuracy. Applied to the "
        f"held-out clips, the model answers **{c.answered_share:.0%}** of them, with accuracy "
        f"**{c.answered_accuracy:.3f}** (all clips: {c.accuracy:.3f}); on the clips it calls "
        f"unsure it is right {c.unsure_accuracy:.0%} of the time."
    )
    if shipped_model_calibration:
        used = shipped_model_calibration
        text += (
            f" The shipped model uses temperature {used['temperature']:.3f} and "
            f"threshold {used['threshold']:.3f}, fitted on its own {used['fitted_on']}."
        )
    return text


def robustness_summary(table: pd.DataFrame) -> str:
    """The conditions that cost the shipped model more than 15 points of UA, in words."""
    shipped = table.columns[0]
    drop = table.loc["clean", shipped] - table[shipped]
    worst = drop[drop > 0.15].sort_values(ascending=False)
    text = f"Clean UA of `{shipped}` on these actors: {table.loc['clean', shipped]:.3f}. "
    if worst.empty:
        text += "No condition costs it more than 15 points of UA."
    else:
        text += (
            "Conditions that still cost it more than 15 points: "
            + ", ".join(f"{name} (−{value:.3f})" for name, value in worst.items())
            + "."
        )
    return text


def tess_summary(metrics: Metrics) -> str:
    """What TESS says about the shipped model beyond RAVDESS, or plainly that it was not run."""
    corpus = metrics.corpus("TESS")
    if corpus is None:
        return (
            "**TESS was not evaluated in this run**: `TESS_DIR` is not set. Set it to a TESS "
            "folder with `manifest.csv` (`.ci/run` uses `../shared/tess`) to judge the models "
            "beyond RAVDESS."
        )
    shipped = corpus.of(metrics.shipped_family())
    rows = [r for r in target_rows(metrics) if r["target"].startswith("TESS")]
    best_other = max((m for m in corpus.models if m is not shipped), key=lambda m: m.uar)
    text = (
        f"On {corpus.clips} TESS clips (two speakers, other sentences, another studio) the "
        f"shipped model's family ({shipped.label}) reaches UA **{shipped.uar:.3f}** over the seven "
        f"emotions (chance {1 / 7:.3f}), against {metrics.shipped.scores.uar:.3f} for the shipped "
        f"model on its held-out RAVDESS actors. The best other model here is {best_other.label} "
        f"at {best_other.uar:.3f}. "
    )
    if rows:
        text += (
            "Its targets: "
            + "; ".join(
                f"{row['target']}: {row['value']:.3f}, **{'met' if row['result'] == 'pass' else 'missed'}**"
                for row in rows
            )
            + ". "
        )
    weak = [f"{e} ({r:.2f})" for e, r in shipped.recall.items() if r < TESS_MIN_RECALL]
    text += (
        "For your own recordings this is the better guide than the RAVDESS numbers: a voice, "
        "microphone and sentence the model never heard changed its UA by "
        f"{shipped.uar - metrics.shipped.scores.uar:+.3f} here"
        + (f", and its weakest emotions ({', '.join(weak)}) are the answers to trust least."
           if weak else ".")
    )  # fmt: skip
    return text
