"""The model card next to the shipped model (``models/model_card.md``), from ``metrics.json``."""

from __future__ import annotations

from pathlib import Path

from ser.evaluation.schema import Metrics
from ser.reporting.templating import render
from ser.reporting.wording import shipped_calibration

SELECTION_RULE_SHORT = (
    "the highest mean validation UA over the folds' validation actors, unless a simpler "
    "candidate trails it by no more than the noise of that judge"
)


def trust_lines(metrics: Metrics) -> list[str]:
    """The model card's calibration and robustness lines."""
    lines = []
    c = shipped_calibration(metrics)
    if c:
        lines.append(
            f"Calibration: temperature scaling fitted on validation actors; held-out ECE "
            f"{c.ece_before:.3f} → {c.ece_after:.3f}. Below its threshold the predictor says "
            f"it is unsure: it then answers {c.answered_share:.0%} of held-out clips, with "
            f"accuracy {c.answered_accuracy:.3f}."
        )
    robustness = metrics.shipped_robustness()
    if robustness:
        lines.append(
            "Robustness (held-out actors, UA): "
            + ", ".join(f"{name} {row.uar:.3f}" for name, row in robustness.conditions.items())
            + "."
        )
    return lines


def model_card(metrics: Metrics) -> str:
    """The shipped model's card, in Markdown, every number read from ``metrics``."""
    shipped, family = metrics.shipped, metrics.shipped_family()
    encoder = metrics.encoder
    selection = encoder.selection if encoder else []
    chosen = next((row for row in selection if row["candidate"] == shipped.model), None)
    corpus = metrics.corpus()
    template = "model_card.md" if family == metrics.ours else "model_card_encoder.md"
    return render(
        template, shipped=shipped, si=metrics.si(family), name=metrics.label(family),
        description=metrics.models[family].description, n_candidates=len(selection),
        rule=SELECTION_RULE_SHORT, chosen=chosen, tess=corpus.of(family) if corpus else None,
        versions=metrics.versions, quick=bool(metrics.plan.get("quick")),
        trust=trust_lines(metrics),
    )  # fmt: skip


def write_model_card(metrics: Metrics, models_dir: Path) -> Path:
    path = Path(models_dir) / "model_card.md"
    path.write_text(model_card(metrics))
    return path
