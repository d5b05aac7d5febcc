"""The model card next to the shipped model (``models/model_card.md``), from ``metrics.json``."""

from __future__ import annotations

from pathlib import Path

from ser.evaluation.tables import Metrics  # fmt: skip
from ser.reporting.templating import render
from ser.reporting.wording import display_name, shipped_calibration, shipped_robustness

SELECTION_RULE_SHORT = (
    "the highest mean validation UA over the folds' validation actors, unless a simpler "
    "candidate trails it by no more than the noise of that judge"
)


def trust_lines(metrics: Metrics) -> list[str]:
    """The model card's calibration and robustness lines (none for older metrics)."""
    lines = []
    c = shipped_calibration(metrics)
    if c:
        lines.append(
            f"Calibration: temperature scaling fitted on validation actors; held-out ECE "
            f"{c['ece_before']:.3f} → {c['ece_after']:.3f}. Below its threshold the predictor says "
            f"it is unsure: it then answers {c['answered_share']:.0%} of held-out clips, with "
            f"accuracy {c['answered_accuracy']:.3f}."
        )
    if metrics.robustness:
        shipped = shipped_robustness(metrics)
        lines.append(
            "Robustness (held-out actors, UA): "
            + ", ".join(f"{name} {row['uar']:.3f}" for name, row in shipped.items())
            + "."
        )
    return lines


def robustness_choice(metrics: Metrics) -> str:
    """The robustness stage in one sentence (validation actors only), or nothing without one."""
    if not metrics.robustness_selection:
        return ""
    score = next(k for k in metrics.robustness_selection[0] if k.startswith("score"))
    others = ", ".join(
        f"`{row['model']}` {row[score]:.3f} (clean {row['clean']:.3f})"
        for row in metrics.robustness_selection
    )
    return (
        f" Then, among it and its augmentation variants, by a validation score in which "
        f"clean UA and the mean UA under damage count half each ({others}): `{metrics.recipe}`."
    )


def model_card(metrics: Metrics) -> str:
    """The shipped model's card, in Markdown, every number read from ``metrics``."""
    shipped = metrics.shipped
    encoder = metrics.encoder
    if encoder is not None and encoder.shipped == encoder.model:
        chosen = next(row for row in encoder.selection if row["candidate"] == encoder.shipped)
        return render(
            "model_card_encoder.md", shipped=shipped, si=metrics.si(encoder.model),
            name=display_name(metrics, encoder.model),
            description=metrics.models[encoder.model].description,
            n_candidates=len(encoder.selection), rule=SELECTION_RULE_SHORT, chosen=chosen,
            tess=encoder.tess, versions=metrics.versions, quick=bool(metrics.plan.get("quick")),
            trust=trust_lines(metrics),
        )  # fmt: skip
    seeds = shipped.seed if isinstance(shipped.seed, list) else [shipped.seed]
    return render(
        "model_card.md", shipped=shipped, si=metrics.si(metrics.ours),
        ours_name=display_name(metrics, metrics.ours),
        description=metrics.models[metrics.ours].description,
        n_candidates=len(metrics.selection), selection_rule=SELECTION_RULE_SHORT,
        clean_choice=next(s for s in metrics.selection
                          if s["candidate"] == (metrics.clean_choice or metrics.recipe)),
        robustness_choice=robustness_choice(metrics),
        seeds=f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}",
        versions=metrics.versions, quick=bool(metrics.plan.get("quick")),
        trust=trust_lines(metrics),
    )  # fmt: skip


def write_model_card(metrics: Metrics, models_dir: Path) -> Path:
    path = Path(models_dir) / "model_card.md"
    path.write_text(model_card(metrics))
    return path
