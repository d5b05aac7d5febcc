"""Stage 3, the features: MFCC, log-mel, eGeMAPS, the waveform bank and pooled encoder states, with their caches."""
