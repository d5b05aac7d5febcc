import numpy as np
import pytest

from ser.data.dataset import build_index
from ser.data.splits import EMOBOX_FOLDS, protocol_splits, random_split, speaker_split

from .conftest import make_tree


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return build_index(make_tree(tmp_path_factory.mktemp("tree") / "Audio_Speech_Actors_01-24"))


def test_emobox_folds_are_disjoint_and_cover_all_actors():
    actors = [a for fold in EMOBOX_FOLDS.values() for a in fold]
    assert len(actors) == len(set(actors)) == 24 and set(actors) == set(range(1, 25))
    assert all(len(fold) == 4 for fold in EMOBOX_FOLDS.values())


def test_speaker_splits_never_share_an_actor(index):
    actors = index["actor"].to_numpy()
    tested = []
    for split in protocol_splits(index, "speaker_independent", seed=42):
        train, validation, test = (
            set(actors[getattr(split, p)]) for p in ("train", "validation", "test")
        )
        assert test == set(EMOBOX_FOLDS[split.fold])
        assert not train & test and not validation & test and not train & validation
        assert len(validation) == 2 and {a % 2 for a in validation} == {
            0,
            1,
        }  # one male, one female
        assert len(split.train) + len(split.validation) + len(split.test) == len(index)
        tested.extend(split.test.tolist())
    assert sorted(tested) == list(range(len(index)))  # every clip tested exactly once


def test_random_split_is_stratified_seeded_and_disjoint(index):
    split = random_split(index, seed=42)
    parts = [set(split.train), set(split.validation), set(split.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(split.test) == 288 and sum(map(len, parts)) == 1440
    test_counts = index.iloc[split.test]["emotion"].value_counts()
    assert test_counts["neutral"] in (19, 20) and test_counts["angry"] in (38, 39)
    again = random_split(index, seed=42)
    assert np.array_equal(split.test, again.test)
    assert not np.array_equal(split.test, random_split(index, seed=7).test)
    assert index.iloc[split.test]["actor"].nunique() == 24  # speakers overlap: the leak


def test_validation_actors_depend_on_seed_not_on_test(index):
    actors = index["actor"].to_numpy()

    def validation_actors(fold, seed):
        return tuple(sorted(set(actors[speaker_split(index, fold, seed).validation])))

    # the same seed gives the same actors; other seeds give other actors
    assert validation_actors(1, 1) == validation_actors(1, 1)
    drawn = {validation_actors(1, seed) for seed in range(20)}
    assert len(drawn) > 5
    # whatever the seed, they are training actors of that fold, never its test actors
    for fold in EMOBOX_FOLDS:
        for seed in range(20):
            assert not set(validation_actors(fold, seed)) & set(EMOBOX_FOLDS[fold])


def test_unknown_protocol(index):
    with pytest.raises(ValueError, match="unknown protocol"):
        protocol_splits(index, "leave_one_out", seed=0)
