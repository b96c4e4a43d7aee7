"""The inference API: edit parsing, targets and conflict rules, conditioning, instance-norm statistics,
classifier / parser use, batching."""

from __future__ import annotations

import copy

import pytest
import torch
from editing_helpers import make_model_dir, tiny_stargan

from secgan.auxiliary.classifier import predict_labels
from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.data.masks import one_hot
from secgan.editing.editor import Editor, edit_targets, parse_edits, use_input_statistics
from secgan.errors import ConfigError, SecganError

A = list(PAPER_ATTRIBUTES)


def _labels(*present: str, n: int = 1) -> torch.Tensor:
    y = torch.zeros(n, len(A))
    for p in present:
        y[:, A.index(p)] = 1
    return y


def _images(n: int = 3, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


# ------------------------------------------------------------------------------------ edits & targets
def test_parse_edits_forms_and_errors():
    assert parse_edits(["+Bangs", "-Young", "Male=0.5"], A) == {"Bangs": 1.0, "Young": -1.0, "Male": 0.5}
    assert parse_edits({"Bald": -2}, A) == {"Bald": -2.0}
    with pytest.raises(ConfigError) as err:
        parse_edits(["+Bangz"], A)
    assert "Bangz" in str(err.value) and "Bushy_Eyebrows" in str(err.value)  # lists the valid names
    with pytest.raises(ConfigError, match="write \\+Attribute"):
        parse_edits(["Bangs"], A)


def test_edit_targets_conflict_rules():
    y_src = torch.cat([_labels("Black_Hair", "Young"), _labels("Bald", "Male")])
    y, w, edited = edit_targets(y_src, {"Blond_Hair": 1.0, "Bangs": 0.5, "Young": -1.0}, A)
    # face 0: black -> blond (black turned off by the rule), bangs on, young off
    assert y[0, A.index("Blond_Hair")] == 1 and y[0, A.index("Black_Hair")] == 0
    assert y[0, A.index("Bangs")] == 1 and y[0, A.index("Young")] == 0
    # face 1: Bangs on turns Bald off, with the strength of the Bangs edit
    assert y[1, A.index("Bald")] == 0 and w[1, A.index("Bald")] == 0.5
    assert y[1, A.index("Male")] == 1  # untouched
    assert edited[:, A.index("Bald")].sum() == 0 and edited[:, A.index("Bangs")].all()
    # explicit edits win over implied ones
    y2, _, _ = edit_targets(_labels(), {"Bald": 1, "Bangs": 1}, A)
    assert y2[0, A.index("Bald")] == 1 and y2[0, A.index("Bangs")] == 1
    # zero = keep
    y3, w3, e3 = edit_targets(_labels("Male"), {"Male": 0.0}, A)
    assert torch.equal(y3, _labels("Male")) and w3.sum() == 0 and not e3.any()


def test_edit_targets_mustache_no_beard_rule():
    y_src = torch.cat([_labels("No_Beard", "Male"), _labels("Mustache", "Male")])
    y, w, edited = edit_targets(y_src, {"Mustache": 0.7}, A)
    assert y[0, A.index("Mustache")] == 1 and y[0, A.index("No_Beard")] == 0  # the rule, face 0
    assert w[0, A.index("No_Beard")] == pytest.approx(0.7) and not edited[:, A.index("No_Beard")].any()
    y, _, _ = edit_targets(y_src, {"No_Beard": 1.0}, A)
    assert (y[:, A.index("Mustache")] == 0).all() and (y[:, A.index("No_Beard")] == 1).all()
    y, _, _ = edit_targets(y_src, {"Mustache": -1.0}, A)  # removing the mustache changes nothing else
    assert y[1, A.index("No_Beard")] == 0 and y[0, A.index("No_Beard")] == 1


def _editor(conditioning: str = "diff", backbone: str = "stargan", tmp_path=None, **kw) -> Editor:
    return Editor.load(
        make_model_dir(tmp_path / f"m_{conditioning}_{backbone}", backbone, conditioning=conditioning, **kw)
    )


def test_condition_for_each_conditioning(tmp_path):
    y_src = _labels("Black_Hair", "Young")
    edits = {"Blond_Hair": 1.0, "Young": -0.5}
    c, _ = _editor("diff", tmp_path=tmp_path).condition(y_src, edits, intensity=2.0)
    expect = torch.zeros(1, len(A))
    expect[0, A.index("Blond_Hair")] = 2.0
    expect[0, A.index("Black_Hair")] = -2.0  # implied by the hair-colour rule, strength of the Blond edit
    expect[0, A.index("Young")] = -1.0
    assert torch.allclose(c, expect)

    c, _ = _editor("target01", tmp_path=tmp_path).condition(y_src, edits, intensity=1.0)
    expect = _labels("Blond_Hair")
    expect[0, A.index("Young")] = 0.5  # half-way from 1 to 0
    assert torch.allclose(c, expect)

    # AttGAN test protocol: (2 y - 1) * thres_int for the others; the edited attributes at +-test_int
    c, _ = _editor("target_pm", "attgan", tmp_path=tmp_path).condition(y_src, edits, intensity=1.0)
    expect = (2 * _labels("Blond_Hair", "Young") - 1) * 0.5
    expect[0, A.index("Blond_Hair")] = 1.0
    expect[0, A.index("Young")] = -0.5
    assert torch.allclose(c, expect)


# ------------------------------------------------------------------------------------------- editing
def test_no_source_and_no_classifier_is_a_clear_error(tmp_path):
    editor = _editor(tmp_path=tmp_path)
    with pytest.raises(SecganError, match="--source.*--classifier"):
        editor.edit(_images(), {"Bangs": 1})


def test_wrong_image_size_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="32x32"):
        _editor(tmp_path=tmp_path).edit(_images(size=64), {"Bangs": 1}, source=_labels())


def test_stargan_uses_per_image_statistics_without_touching_buffers(tmp_path):
    editor = _editor(tmp_path=tmp_path)
    G = editor.G
    buffers = {k: v.clone() for k, v in G.state_dict().items()}
    x = _images(4)
    y = _labels("Brown_Hair", n=4)
    out = editor.edit(x, {"Bangs": 1, "Male": -1}, source=y)
    assert out.shape == x.shape and out.abs().max() <= 1

    # reference: the official behaviour = train-mode forward of an untouched copy
    ref_G = tiny_stargan()
    ref_G.load_state_dict(buffers)
    ref_G.train()
    c, _ = editor.condition(y, {"Bangs": 1, "Male": -1})
    with torch.no_grad():
        ref = ref_G(x, c)
    assert torch.allclose(out, ref, atol=1e-5)
    # eval() with running statistics would give something else
    with torch.no_grad():
        assert not torch.allclose(copy.deepcopy(ref_G).eval()(x, c), ref, atol=1e-3)
    for k, v in G.state_dict().items():
        assert torch.equal(v, buffers[k]), f"{k} changed"
    # batching: one image at a time gives the same result (per-image statistics)
    single = torch.cat(
        [editor.edit(x[i : i + 1], {"Bangs": 1, "Male": -1}, source=y[i : i + 1]) for i in range(4)]
    )
    assert torch.allclose(single, out, atol=1e-5)


def test_use_input_statistics_counts_layers():
    G = tiny_stargan()
    assert use_input_statistics(G) == sum(isinstance(m, torch.nn.InstanceNorm2d) for m in G.modules()) > 0


def test_attgan_runs_in_eval_mode(tmp_path):
    editor = _editor("target_pm", "attgan", tmp_path=tmp_path)
    assert editor.norm_stats == "running"
    x, y = _images(2), _labels("Male", n=2)
    out = editor.edit(x, {"Eyeglasses": 1}, source=y)
    c, _ = editor.condition(y, {"Eyeglasses": 1})
    with torch.no_grad():
        assert torch.allclose(out, editor.G.eval()(x, c).clamp(-1, 1), atol=1e-6)


def test_zero_strength_is_reconstruction(tmp_path):
    editor = _editor(tmp_path=tmp_path)
    x, y = _images(2), _labels("Young", n=2)
    out = editor.edit(x, {"Bangs": 1}, source=y, intensity=0.0)
    with torch.no_grad():
        assert torch.allclose(out, editor.G(x, torch.zeros(2, len(A))), atol=1e-6)


def test_bundled_classifier_predicts_the_source(tmp_path):
    editor = _editor(tmp_path=tmp_path, classifier=True)
    x = _images(3)
    net, cmeta = editor.classifier
    expected = predict_labels(net, cmeta, x)
    assert torch.equal(editor.predict_source(x), expected)
    out = editor.edit(x, {"Bangs": 1})  # no source given: predicted
    assert torch.allclose(out, editor.edit(x, {"Bangs": 1}, source=expected))


def test_classifier_dir_overrides(tmp_path):
    from editing_helpers import tiny_classifier

    from secgan.models.export import save_pretrained

    cdir = save_pretrained(
        tmp_path / "C",
        {"classifier": tiny_classifier(len(A) + 1, 32)},
        {"kind": "classifier", "attributes": ["Smiling", *reversed(A)], "multilabel": True, "image_size": 32},
    )
    editor = Editor.load(make_model_dir(tmp_path / "m", "stargan"), classifier_dir=cdir)
    x = _images(2)
    net, cmeta = editor.classifier
    full = predict_labels(net, cmeta, x)
    cols = [cmeta["attributes"].index(a) for a in A]  # columns picked by name, in the model's order
    assert torch.equal(editor.predict_source(x), full[:, cols])


def test_concat_model_takes_the_parser_masks(tmp_path):
    editor = Editor.load(make_model_dir(tmp_path / "m", "stargan", parser=True, needs_mask=True))
    x, y = _images(2), _labels("Male", n=2)
    out = editor.edit(x, {"Young": -1}, source=y)
    c, _ = editor.condition(y, {"Young": -1})
    with torch.no_grad():
        ref = editor.G(torch.cat([x, one_hot(editor.parser.labels12(x))], 1), c)
    assert torch.allclose(out, ref.clamp(-1, 1), atol=1e-6)
    assert editor.parse(x).shape == (2, 32, 32)


def test_labels_from_names(tmp_path):
    editor = _editor(tmp_path=tmp_path)
    assert torch.equal(editor.labels_from_names("Brown_Hair,Young"), _labels("Brown_Hair", "Young"))
    assert editor.labels_from_names("").sum() == 0
    with pytest.raises(ConfigError, match="valid attributes"):
        editor.labels_from_names("Purple_Hair")


def test_bf16_precision_is_close_to_fp32(tmp_path):
    model = make_model_dir(tmp_path / "m", "stargan")
    x, y = _images(2), _labels("Young", n=2)
    ref = Editor.load(model).edit(x, {"Bangs": 1}, source=y)
    fast = Editor.load(model, precision="bf16").edit(x, {"Bangs": 1}, source=y)
    assert fast.dtype == torch.float32 and (fast - ref).abs().max() < 0.1
    with pytest.raises(ConfigError, match="precision"):
        Editor.load(model, precision="fp8")


def test_norm_stats_meta_override(tmp_path):
    from secgan.models.export import load_pretrained

    model = make_model_dir(tmp_path / "m", "stargan")
    nets, meta = load_pretrained(model)
    editor = Editor(nets["G"], {**meta, "norm_stats": "running"})
    x, y = _images(2), _labels("Male", n=2)
    c, _ = editor.condition(y, {"Bangs": 1})
    ref_G = tiny_stargan().eval()
    with torch.no_grad():
        assert torch.allclose(editor.edit(x, {"Bangs": 1}, source=y), ref_G(x, c).clamp(-1, 1), atol=1e-6)
    with pytest.raises(SecganError, match="norm_stats"):
        Editor(tiny_stargan(), {**meta, "norm_stats": "batch"})


def test_onehot_expressions():
    from secgan.data.attributes import RAFD_EXPRESSIONS

    E = list(RAFD_EXPRESSIONS)
    y_src = torch.zeros(2, 8)
    y_src[0, E.index("neutral")] = 1
    y_src[1, E.index("happy")] = 1
    y, w, _ = edit_targets(y_src, {"happy": 1.0}, E, onehot=True)
    assert torch.equal(y, torch.zeros(2, 8).index_fill_(1, torch.tensor([E.index("happy")]), 1.0))
    assert w[0, E.index("neutral")] == 1.0
    with pytest.raises(ConfigError, match="exactly one"):
        edit_targets(y_src, {"happy": 1.0, "sad": 1.0}, E, onehot=True)
    with pytest.raises(ConfigError, match="exactly one"):
        edit_targets(y_src, {"happy": -1.0}, E, onehot=True)
