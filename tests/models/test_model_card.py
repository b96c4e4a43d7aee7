"""The model card: one reader for every exported model, old folders included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from secgan.errors import WeightsError
from secgan.models.export import (
    FORMAT,
    VERSION,
    BundledParserCard,
    ModelCard,
    load_pretrained,
    read_card,
    save_pretrained,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
OLD_EXPORT = FIXTURES / "export_v1_concat"  # written by the trainer before the card existed


def test_old_export_reads_as_a_card():
    card = read_card(OLD_EXPORT)
    assert card.attributes == ("Bald", "Bangs", "Black_Hair", "Blond_Hair")
    assert card.mode == "concat" and card.needs_mask and card.in_channels == 15
    assert card.parser_input_size == 32 and card.image_size == 32 and card.iterations == 1
    assert card.classifier["attributes"][0] == "Young"
    assert "crop" not in card.to_json() and not card.extra  # the unread key is dropped


def test_old_export_edits_as_before():
    from secgan.editing.editor import Editor

    ref = torch.load(FIXTURES / "export_v1_concat_edit.pt", weights_only=True)
    editor = Editor.load(OLD_EXPORT)
    assert editor.needs_mask and editor.parser.input_size == 32
    torch.testing.assert_close(editor.predict_source(ref["x"]), ref["source"])
    torch.testing.assert_close(editor.edit(ref["x"], {"Bangs": 1.0, "Bald": -1.0}), ref["y"])


def test_round_trip_and_defaults():
    card = ModelCard(attributes=("Bangs",), mode="concat", parser=BundledParserCard(input_size=64))
    again = ModelCard.from_json(card.to_json())
    assert again == card
    minimal = ModelCard.from_json({"attributes": ["Bangs"]})
    assert (minimal.conditioning, minimal.target_scale, minimal.image_size) == ("diff", 0.5, 128)
    # no parser size recorded: the one default of models/parser_input.py (BiSeNet: max(256, image size))
    assert not minimal.needs_mask and minimal.parser_input_size == 256
    # an old folder with needs_mask but no mode is a concat model
    assert ModelCard.from_json({"attributes": ["Bangs"], "needs_mask": True}).mode == "concat"
    # keys of a newer writer survive a round trip
    assert ModelCard.from_json({"attributes": ["Bangs"], "future": 1}).to_json()["future"] == 1


@pytest.mark.parametrize(
    "meta, match",
    [
        ({}, "attributes"),
        ({"attributes": ["Bangs"], "conditioning": "target"}, "target01"),
        ({"attributes": ["Bangs"], "mode": "concat", "needs_mask": False}, "contradicts"),
        ({"attributes": ["Bangs"], "mode": "baseline", "in_channels": 15}, "in_channels"),
        ({"attributes": ["Bangs"], "norm_stats": "batch"}, "norm_stats"),
        ({"attributes": ["Bangs"], "kind": "classifier"}, "not an editing model"),
        ({"attributes": ["Bangs"], "image_size": "big"}, "bad model meta"),
    ],
)
def test_bad_cards_name_the_field(meta, match):
    with pytest.raises(WeightsError, match=match):
        ModelCard.from_json(meta, "m/config.json")


def test_generator_input():
    x = torch.randn(2, 3, 8, 8)
    s = torch.randint(0, 12, (2, 8, 8))
    assert ModelCard(attributes=("a",)).generator_input(x, s) is x
    g_in = ModelCard(attributes=("a",), mode="concat").generator_input(x, s)
    assert g_in.shape == (2, 15, 8, 8) and torch.equal(g_in[:, 3:].argmax(1), s)


def test_editor_and_evaluate_read_a_minimal_card_alike(tmp_path):
    """A config.json with only the attributes and the mode: the editor and the evaluation agree on the
    parser's input size, needs_mask and the classifier's columns."""
    from secgan.auxiliary.classifier import bundled_classifier_meta, classifier_columns
    from secgan.editing.editor import Editor
    from secgan.metrics.evaluate import EvalOptions, _load_parser
    from secgan.models.bisenet import BiSeNet
    from secgan.models.classifier import AttributeClassifier
    from secgan.models.stargan import StarGANGenerator

    attrs = ["Bangs", "Young"]
    torch.manual_seed(0)
    nets = {
        "G": StarGANGenerator(in_channels=15, n_attrs=2, conv_dim=4, n_res=1, n_down=2),
        "parser": BiSeNet(base_width=4),
        "classifier": AttributeClassifier(n_outputs=3, image_size=32, widths=(4,) * 5, fc_dim=8),
    }
    folder = save_pretrained(tmp_path / "m", nets, {"attributes": attrs, "mode": "concat"})
    config = json.loads((folder / "config.json").read_text())
    config["classifier"] = {"attributes": ["Young", "Male", "Bangs"], "image_size": 32}
    (folder / "config.json").write_text(json.dumps(config))
    assert set(config) == {"format", "version", "networks", "sha256", "attributes", "mode", "classifier"}
    assert (config["format"], config["version"]) == (FORMAT, VERSION)

    editor = Editor.load(folder)
    loaded, meta = load_pretrained(folder)
    card = ModelCard.from_json(meta)
    opts = EvalOptions(model=folder, data=tmp_path, dataset="synthetic", classifier=tmp_path)
    parser, info = _load_parser(opts, loaded, card, torch.device("cpu"))
    # no size in the card: the one default (models/parser_input.py), BiSeNet max(256, 128)
    assert (
        editor.parser.input_size == info["input_size"] == parser.input_size == card.parser_input_size == 256
    )
    assert editor.needs_mask is card.needs_mask is True
    cmeta = bundled_classifier_meta(loaded["classifier"], card)
    assert editor._classifier_columns == classifier_columns(card.attributes, cmeta) == [2, 0]
