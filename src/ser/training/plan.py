"""The plan of a run: which specs notebook 03 trains, on which folds, with which seed.

No Keras here: the report and notebook 04 read the plan without loading TensorFlow.
The from-scratch CNN's recipe was chosen among its alternatives on validation actors
by earlier runs; how, and with which numbers, is in ``bench/cnn_recipe.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ser.data.splits import EMOBOX_FOLDS, SHIPPED_MODEL_FOLD
from ser.models import artifacts
from ser.models.specs import BILSTM, CNN, ModelSpec

# Noise and band limits added inside the model while training (ser.models.architectures.
# ChannelAugment), with settings from bench/explore_models.py (validation actors only).
CHANNEL_AUGMENTATION = {
    "noise_probability": 0.6,
    "band_limit_probability": 0.4,
    "snr_db": (-5.0, 25.0),
}
WAVEFORM_VERSIONS = 3  # waveform-bank versions of each training clip (ser.features.waveform_bank)
CNN_RECIPE = CNN.with_changes(
    "cnn_augmented",
    "log-mel CNN without SpecAugment, with channel augmentation (added white or babble noise, "
    "band limits) and waveform augmentation (a random room, microphone, level and noise) "
    "during training, and a class-balanced loss",
    augmentation=False, **CHANNEL_AUGMENTATION, waveform_versions=WAVEFORM_VERSIONS,
    balanced_classes=True,
)  # fmt: skip
SPECS = {spec.name: spec for spec in (BILSTM, CNN_RECIPE)}
QUICK_EPOCHS = 2
QUICK_FOLDS = (1, 2)

# Each model's name in words, for readers outside the field.
MODEL_NAMES = {
    BILSTM.name: "the original BiLSTM",
    CNN_RECIPE.name: "our from-scratch CNN",
    # the pretrained-encoder family (ser.training.encoder_family)
    "whisper_last_layer": "Whisper encoder, last layer, linear head",
    "whisper_layer_2": "Whisper encoder, second block, linear head",
    "whisper_all_layers": "Whisper encoder, every layer, linear head",
    "whisper_all_layers_bank": "Whisper encoder, every layer, linear head, waveform bank",
}


@dataclass
class Plan:
    """The settings of one run of notebook 03; quick caps epochs and folds (CI smoke run)."""

    seed: int
    quick: bool = False
    folds: list[int] = field(default_factory=lambda: sorted(EMOBOX_FOLDS))
    epoch_cap: int | None = None
    shipped_fold: int = SHIPPED_MODEL_FOLD

    @classmethod
    def resolve(cls, seed: int, quick: bool = False, epochs: int | None = None) -> Plan:
        """Full run: every fold; quick: ``QUICK_FOLDS`` and ``QUICK_EPOCHS``."""
        cap = QUICK_EPOCHS if quick else None
        if epochs:
            cap = min(int(epochs), cap or int(epochs))
        folds = list(QUICK_FOLDS) if quick else sorted(EMOBOX_FOLDS)
        return cls(int(seed), bool(quick), folds, cap)

    def spec(self, name: str) -> ModelSpec:
        """The spec as this run trains it (epochs capped in a quick run)."""
        spec = SPECS[name]
        return replace(spec, epochs=min(spec.epochs, self.epoch_cap)) if self.epoch_cap else spec

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict) -> Plan:
        return cls(**record)

    @classmethod
    def read(cls, runs_dir: Path) -> Plan:
        """The plan notebook 03 saved next to its runs."""
        return cls.from_dict(artifacts.read_plan(runs_dir))


def describe_plan(plan: dict) -> str:
    """A plan in words, e.g. for the quick-run warnings: epochs cap, folds and seed."""
    cap = f"at most {plan['epoch_cap']} epochs" if plan.get("epoch_cap") else "full epochs"
    folds = plan.get("folds", [])
    return (
        f"{cap}, fold{'s' if len(folds) != 1 else ''} {', '.join(map(str, folds))}, "
        f"seed {plan.get('seed')}"
    )
