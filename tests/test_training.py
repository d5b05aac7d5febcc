def test_mixup_blends_clips_and_targets_alike():
    import numpy as np

    from ser.training import VersionDraws

    clips = np.stack([np.full((3, 2), float(i)) for i in range(8)])[None]  # clip i is all i
    targets = np.eye(8, dtype="float32")
    first = VersionDraws(clips, targets, batch_size=8, seed=1, mixup_alpha=0.4)[0]
    x, y = first
    assert np.allclose(y.sum(axis=1), 1.0) and not np.allclose(y.max(axis=1), 1.0)
    # each blended clip is the target-weighted mean of the clips' values
    assert np.allclose(x[:, 0, 0], y @ np.arange(8))
    again = VersionDraws(clips, targets, batch_size=8, seed=1, mixup_alpha=0.4)[0]
    assert np.array_equal(x, again[0])  # seeded
