"""What defines a model and its training recipe (no Keras here: reading a spec is cheap).

:class:`ModelSpec` names everything that defines a model and how it is trained;
:func:`ser.models.architectures.build_model` turns a spec into a compiled Keras model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

DEFAULT_EPOCHS = 60


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines one model and its training recipe.

    ``features``: "mfcc" (40 coefficients) or "logmel" (64 log-mel bands).
    ``normalisation``: "scaler" (per coefficient, fitted on training clips, kept
    as the weights of the model's first layer), "global" (the same, as a
    ``keras.layers.Normalization`` layer) or "utterance" (each clip normalised
    by its own statistics: nothing learned from other clips).
    ``epochs``: the most epochs (``patience`` set: early stopping on validation
    UA, best weights kept) or exactly the epochs of a cosine schedule.
    """

    name: str
    architecture: str = "cnn"  # "bilstm" | "cnn"
    features: str = "logmel"
    normalisation: str = "utterance"
    augmentation: bool = True
    pooling: str = "statistics"  # cnn only: "statistics" | "average"
    channels: tuple[int, ...] = (64, 128, 128)
    kernel_sizes: tuple[int, ...] = (5, 5, 3)
    dropout: float = 0.3
    optimizer: str = "adamw_cosine"  # "adam" (fixed rate) | "adamw_cosine"
    learning_rate: float = 2e-3
    weight_decay: float = 1e-2
    label_smoothing: float = 0.1
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = 32
    patience: int | None = None
    time_masks: int = 1
    time_mask_width: int = 10
    freq_masks: int = 1
    freq_mask_width: int = 6
    max_shift: int = 10
    # Channel augmentation (log-mel only): the chance that a training clip gets added
    # noise, and the chance that it is band-limited (0 turns it off); see ChannelAugment.
    noise_probability: float = 0.0
    band_limit_probability: float = 0.0
    snr_db: tuple[float, float] = (0.0, 30.0)
    # Waveform augmentation (ser.features.waveform_bank): each epoch draws one of the clean clip and
    # this many versions of it passed through a random room, microphone, level and noise.
    waveform_versions: int = 0
    # Every class weighs the same in the loss (RAVDESS has half as many neutral clips).
    balanced_classes: bool = False
    description: str = field(default="", compare=False)

    @property
    def ingredients(self) -> int:
        """How many training-time ingredients the recipe adds to the plain network
        (SpecAugment, channel augmentation, waveform augmentation, longer training): the
        simpler of two candidates has fewer."""
        return sum((
            self.augmentation, bool(self.noise_probability or self.band_limit_probability),
            bool(self.waveform_versions), self.epochs > DEFAULT_EPOCHS,
            self.balanced_classes,
        ))  # fmt: skip

    def with_changes(self, name: str, description: str = "", **changes) -> ModelSpec:
        return replace(self, name=name, description=description, **changes)

    def summary(self) -> str:
        """The whole recipe in words, generated from the fields."""
        if self.architecture == "bilstm":
            stop = (f"early stopping on validation UA (patience {self.patience}, at most "
                    f"{self.epochs} epochs)" if self.patience else f"{self.epochs} epochs")  # fmt: skip
            return (f"the original BiLSTM on {self.features} standardised on the training clips; "
                    f"Adam (learning rate {self.learning_rate:g}), batch {self.batch_size}, {stop}")  # fmt: skip
        kinds = []
        if self.augmentation:
            kinds.append(
                f"SpecAugment ({self.time_masks} time mask ≤ {self.time_mask_width} frames, "
                f"{self.freq_masks} frequency mask ≤ {self.freq_mask_width} bands, shift ≤ "
                f"{self.max_shift} frames)"
            )
        if self.noise_probability or self.band_limit_probability:
            kinds.append(
                f"channel augmentation (noise at {self.snr_db[0]:g} to {self.snr_db[1]:g} dB SNR "
                f"on {self.noise_probability:.0%} of clips, band limits on "
                f"{self.band_limit_probability:.0%})"
            )
        if self.waveform_versions:
            kinds.append(
                f"waveform augmentation (each epoch one of the clean clip and "
                f"{self.waveform_versions} versions through a random room, microphone, level and "
                "noise)"
            )
        augmentation = ", ".join(kinds) or "no augmentation"
        return (
            f"{self.features} features, {self.normalisation} normalisation inside the model, "
            f"{augmentation}, {len(self.channels)} convolution blocks "
            f"({', '.join(map(str, self.channels))} channels), {self.pooling} pooling, dropout "
            f"{self.dropout:g}; AdamW with a cosine schedule (learning rate {self.learning_rate:g}, "
            f"weight decay {self.weight_decay:g}), label smoothing {self.label_smoothing:g}, "
            f"{'class-balanced loss, ' if self.balanced_classes else ''}"
            f"{self.epochs} epochs, batch {self.batch_size}"
        )

    def as_dict(self) -> dict:
        record = asdict(self)
        record["channels"], record["kernel_sizes"] = list(self.channels), list(self.kernel_sizes)
        record["snr_db"] = list(self.snr_db)
        return record


# The original project's model and our fair training regime for it: early stopping on
# validation UA, with the patience chosen on validation curves (bench/cnn_recipe.md).
BILSTM = ModelSpec(
    name="bilstm", architecture="bilstm", features="mfcc", normalisation="scaler",
    augmentation=False, optimizer="adam", learning_rate=1e-3, weight_decay=0.0,
    label_smoothing=0.0, epochs=60, batch_size=64, patience=8,
    description="the original BiLSTM on standardised MFCCs, Adam, early stopping on validation UA",
)  # fmt: skip

# Our model, its recipe explored on validation actors only (see bench/explore_models.py).
CNN = ModelSpec(
    name="cnn",
    description="log-mel, per-utterance normalisation, light SpecAugment, 3 conv blocks, "
    "statistics pooling",
)
