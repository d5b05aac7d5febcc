"""Stage 2, the models: specs, Keras layers and builders, the Whisper encoder, heads, calibration, saving and loading."""
