"""The editing-accuracy protocol on hand-made labels and predictions."""

from __future__ import annotations

import pytest
import torch

from secgan.data.attributes import PAPER_ATTRIBUTES, RAFD_EXPRESSIONS, celeba_edit_targets, rafd_edit_targets
from secgan.metrics.accuracy import AccuracyCounter, edit_accuracy, expression_correct, implied_changes

A = list(PAPER_ATTRIBUTES)
IDX = {a: i for i, a in enumerate(A)}


def labels(*on: str) -> torch.Tensor:
    y = torch.zeros(1, len(A))
    for a in on:
        y[0, IDX[a]] = 1
    return y


def test_invert_plain_attribute():
    y = labels("Male", "Young")
    t = celeba_edit_targets(y, IDX["Male"], A)
    assert t[0, IDX["Male"]] == 0 and t[0, IDX["Young"]] == 1
    assert torch.equal(torch.cat([t[:, : IDX["Male"]], t[:, IDX["Male"] + 1 :]], 1),
                       torch.cat([y[:, : IDX["Male"]], y[:, IDX["Male"] + 1 :]], 1))  # fmt: skip


def test_hair_colour_on_turns_other_colours_off():
    y = labels("Black_Hair", "Brown_Hair", "Male")
    t = celeba_edit_targets(y, IDX["Blond_Hair"], A)
    assert t[0, IDX["Blond_Hair"]] == 1
    assert t[0, IDX["Black_Hair"]] == 0 and t[0, IDX["Brown_Hair"]] == 0
    assert t[0, IDX["Male"]] == 1


def test_hair_colour_off_leaves_other_colours():
    y = labels("Black_Hair", "Brown_Hair")
    t = celeba_edit_targets(y, IDX["Black_Hair"], A)
    assert t[0, IDX["Black_Hair"]] == 0 and t[0, IDX["Brown_Hair"]] == 1


def test_bald_and_bangs_exclusive():
    t = celeba_edit_targets(labels("Bangs"), IDX["Bald"], A)
    assert t[0, IDX["Bald"]] == 1 and t[0, IDX["Bangs"]] == 0
    t = celeba_edit_targets(labels("Bald"), IDX["Bangs"], A)
    assert t[0, IDX["Bangs"]] == 1 and t[0, IDX["Bald"]] == 0
    # turning Bald off does not touch Bangs
    t = celeba_edit_targets(labels("Bald", "Bangs"), IDX["Bald"], A)
    assert t[0, IDX["Bald"]] == 0 and t[0, IDX["Bangs"]] == 1


def test_rules_skip_attributes_not_in_the_list():
    attrs = ["Bald", "Male"]
    t = celeba_edit_targets(torch.tensor([[0.0, 1.0]]), 0, attrs)
    assert t.tolist() == [[1.0, 1.0]]


def test_edit_accuracy_counts_target_of_edited_attribute_only():
    i = IDX["Blond_Hair"]
    y_src = torch.cat([labels("Black_Hair"), labels(), labels("Blond_Hair"), labels()])
    y_trg = celeba_edit_targets(y_src, i, A)
    pred = y_trg.clone()
    pred[1, i] = 0  # wrong on the edited attribute
    pred[2, IDX["Black_Hair"]] = 1  # wrong elsewhere: does not matter
    out = edit_accuracy(pred, y_src, y_trg, i)
    assert out == {"accuracy": 0.75, "n": 4, "n_implied": 1}  # image 0: Black_Hair turned off by the rule


def test_unchanged_target_is_scored_against_the_source():
    # A hand-made target that leaves the attribute as it was (e.g. "to black hair" on black hair).
    i = IDX["Black_Hair"]
    y_src = torch.cat([labels("Black_Hair"), labels("Black_Hair")])
    y_trg = y_src.clone()
    pred = torch.stack([y_src[0], torch.zeros(len(A))])  # keeps the source / drops it
    out = edit_accuracy(pred, y_src, y_trg, i)
    assert out["n_implied"] == 0 and out["accuracy"] == 0.5


def test_rafd_targets_and_argmax_rule():
    k = len(RAFD_EXPRESSIONS)
    t = rafd_edit_targets(3, 4, k)
    assert t.shape == (3, k) and t.sum().item() == 3 and (t.argmax(1) == 4).all()
    logits = torch.tensor(
        [[0.0, 0, 0, 0, 5, 0, 0, 0], [9.0, 0, 0, 0, 5, 0, 0, 0], [0.0, 0, 0, 0, 1, 0, 0, 0]]
    )
    assert expression_correct(logits, 4).tolist() == [True, False, True]


def test_rafd_every_image_to_every_expression_mean():
    # 2 images x 8 expressions; a classifier that always says "happy": only the happy edits are right.
    k = len(RAFD_EXPRESSIONS)
    counter = AccuracyCounter(list(RAFD_EXPRESSIONS))
    always_happy = torch.nn.functional.one_hot(torch.full((2,), 4), k).float()
    for e in range(k):
        counter.update(e, expression_correct(always_happy, e))
    s = counter.summary()
    assert s["per_attribute"]["happy"] == 1.0 and s["per_attribute"]["sad"] == 0.0
    assert s["mean"] == pytest.approx(1 / 8)


def test_counter_unweighted_mean():
    c = AccuracyCounter(["a", "b"])
    c.update(0, torch.tensor([True, True, True, False]))  # 0.75 on 4
    c.update(1, torch.tensor([False, True]))  # 0.5 on 2
    assert c.mean() == pytest.approx(0.625)  # not the pooled 4/6
    assert c.summary()["counts"] == {"a": 4, "b": 2}


def test_counter_counts_targets_changed_by_the_conflict_rules():
    i = IDX["Blond_Hair"]
    y_src = torch.cat([labels("Black_Hair"), labels(), labels("Blond_Hair", "Brown_Hair")])
    y_trg = celeba_edit_targets(y_src, i, A)
    implied = implied_changes(y_src, y_trg, i)
    assert implied.tolist() == [True, False, False]  # blond off on image 2 changes nothing else
    c = AccuracyCounter(A)
    c.update(i, torch.tensor([True, True, False]), implied)
    assert c.summary()["conflict_rule_targets"]["Blond_Hair"] == 1 and "unchanged_targets" not in c.summary()


def test_receding_hairline_follows_bald_rule():
    attrs = ["Bangs", "Receding_Hairline", "Bald"]
    t = celeba_edit_targets(torch.tensor([[1.0, 0.0, 0.0]]), 1, attrs)
    assert t.tolist() == [[0.0, 1.0, 0.0]]
    t = celeba_edit_targets(torch.tensor([[0.0, 1.0, 1.0]]), 0, attrs)
    assert t.tolist() == [[1.0, 0.0, 0.0]]


def test_counter_empty_group_is_none_not_nan():
    c = AccuracyCounter(["a", "b"])
    c.update(0, torch.tensor([True, False]))
    c.update(1, torch.tensor([], dtype=torch.bool))
    assert c.per_group() == {"a": 0.5, "b": None} and c.mean() == 0.5


def test_mustache_and_no_beard_follow_attgan_conflict_rule():
    # AttGAN-PyTorch's check_attribute_conflict: adding a mustache turns No_Beard off and vice versa.
    t = celeba_edit_targets(labels("No_Beard", "Male"), IDX["Mustache"], A)
    assert t[0, IDX["Mustache"]] == 1 and t[0, IDX["No_Beard"]] == 0 and t[0, IDX["Male"]] == 1
    t = celeba_edit_targets(labels("Mustache"), IDX["No_Beard"], A)
    assert t[0, IDX["No_Beard"]] == 1 and t[0, IDX["Mustache"]] == 0
    # removing either changes nothing else, as in the reference
    t = celeba_edit_targets(labels("Mustache", "No_Beard"), IDX["Mustache"], A)
    assert t[0, IDX["Mustache"]] == 0 and t[0, IDX["No_Beard"]] == 1
