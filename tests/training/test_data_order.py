from __future__ import annotations

import pytest

from secgan.errors import ConfigError
from secgan.training.data_order import StepBatchSampler, epoch_permutation


def test_epoch_order_is_a_pure_function_of_seed_and_epoch():
    assert epoch_permutation(50, 3, 1).tolist() == epoch_permutation(50, 3, 1).tolist()
    assert epoch_permutation(50, 3, 1).tolist() != epoch_permutation(50, 3, 2).tolist()
    assert sorted(epoch_permutation(50, 3, 1).tolist()) == list(range(50))


def test_resumed_sampler_continues_the_same_sequence():
    full = list(StepBatchSampler(22, 4, seed=5, start_step=0, total_steps=20))
    tail = list(StepBatchSampler(22, 4, seed=5, start_step=7, total_steps=20))
    assert tail == full[7:]
    # 5 batches per epoch (22 // 4, last 2 dropped); each epoch has distinct items
    first_epoch = [i for b in full[:5] for i in b]
    assert len(set(first_epoch)) == 20


def test_ranks_split_each_global_batch():
    g = list(StepBatchSampler(30, 6, seed=1, start_step=0, total_steps=8))
    r0 = list(StepBatchSampler(30, 6, seed=1, start_step=0, total_steps=8, rank=0, world_size=2))
    r1 = list(StepBatchSampler(30, 6, seed=1, start_step=0, total_steps=8, rank=1, world_size=2))
    assert [a + b for a, b in zip(r0, r1)] == g
    with pytest.raises(ConfigError, match="divisible"):
        StepBatchSampler(30, 5, seed=1, start_step=0, total_steps=8, rank=0, world_size=2)
