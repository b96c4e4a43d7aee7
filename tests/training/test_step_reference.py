"""One SeCGAN step on a fixed batch and seed gives the losses, statistics and updated networks of the code
before the step was made faster (issue 23): fusing passes, keeping masks in the form the step needs and
moving host synchronisations out of the step may reorder floating-point sums, but must not change what is
computed.

``REFERENCE`` was recorded from the trainer of commit 0348206 (before any of those changes) with
``tiny_config(backbone, "secgan", "train.n_critic=1", "train.amp=...", "data.flip=true")``, the first batch
of the run's loader, step 1 (critics and generators), then the updated networks on the same batch
(``after/*``). Tolerances: bf16's for the bf16 runs (a relative 1e-2, an absolute 2e-3: the two precisions
differ by less); for the float32 runs a relative 1e-3 and an absolute 1e-4, tight enough to catch a loss
term gone missing (``lambda_sc * sc`` is 0.4 % of ``G_rgb/loss``) while a reordered sum moves ~1e-6.
"""

from __future__ import annotations

import pytest
import torch
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

from secgan.training.trainer import Trainer

# fmt: off
REFERENCE = {
    "stargan-fp32": {
        "D_rgb/cls": 2.770597,
        "D_rgb/cls_acc": 0.5,
        "D_rgb/d_fake": -0.001481544,
        "D_rgb/d_real": -0.001156148,
        "D_rgb/gp": 0.8143888,
        "D_rgb/grad_norm": 0.09759825,
        "D_rgb/loss": 10.91416,
        "D_rgb/wdist": 0.0003253954,
        "D_seg/cls": 2.780206,
        "D_seg/cls_acc": 0.375,
        "D_seg/d_fake": 0.002788038,
        "D_seg/d_real": 0.01160246,
        "D_seg/gp": 0.7768567,
        "D_seg/grad_norm": 0.1186293,
        "D_seg/loss": 10.53996,
        "D_seg/wdist": 0.008814419,
        "G_rgb/cls": 2.769314,
        "G_rgb/cls_acc": 0.5,
        "G_rgb/g_adv": 0.002293071,
        "G_rgb/loss": 6.615198,
        "G_rgb/rec": 0.3816197,
        "G_rgb/sc": 2.739432,
        "G_rgb/sc_agree": 0.03759766,
        "G_seg/cls": 2.772487,
        "G_seg/cls_acc": 0.5,
        "G_seg/g_adv": -0.002693672,
        "G_seg/loss": 29.2724,
        "G_seg/rec": 2.64754,
        "G_seg/sc": 2.721177,
        "G_seg/sc_agree": 0.03759766,
        "after/G_rgb_out_abs_mean": 0.2669737,
        "after/G_seg_out_max_mean": 0.1446192,
        "after/D_rgb_adv_mean": -0.001486438,
        "after/D_rgb_cls_abs_mean": 0.01972328,
    },
    "stargan-bf16": {
        "D_rgb/cls": 2.770539,
        "D_rgb/cls_acc": 0.5,
        "D_rgb/d_fake": -0.001462042,
        "D_rgb/d_real": -0.001125304,
        "D_rgb/gp": 0.8146768,
        "D_rgb/grad_norm": 0.09744137,
        "D_rgb/loss": 10.91697,
        "D_rgb/wdist": 0.0003367383,
        "D_seg/cls": 2.780221,
        "D_seg/cls_acc": 0.375,
        "D_seg/d_fake": 0.002828598,
        "D_seg/d_real": 0.01162878,
        "D_seg/gp": 0.7768321,
        "D_seg/grad_norm": 0.1186412,
        "D_seg/loss": 10.53974,
        "D_seg/wdist": 0.008800179,
        "G_rgb/cls": 2.769343,
        "G_rgb/cls_acc": 0.5,
        "G_rgb/g_adv": 0.002268888,
        "G_rgb/loss": 6.615373,
        "G_rgb/rec": 0.381636,
        "G_rgb/sc": 2.740131,
        "G_rgb/sc_agree": 0.03637695,
        "G_seg/cls": 2.772442,
        "G_seg/cls_acc": 0.5,
        "G_seg/g_adv": -0.002676845,
        "G_seg/loss": 29.27694,
        "G_seg/rec": 2.647996,
        "G_seg/sc": 2.721424,
        "G_seg/sc_agree": 0.03515625,
        "after/G_rgb_out_abs_mean": 0.2671492,
        "after/G_seg_out_max_mean": 0.1446346,
        "after/D_rgb_adv_mean": -0.001430479,
        "after/D_rgb_cls_abs_mean": 0.01972106,
    },
    "attgan-fp32": {
        "D_rgb/cls": 0.679563,
        "D_rgb/cls_acc": 0.6875,
        "D_rgb/d_fake": 0.07907385,
        "D_rgb/d_real": 0.09874608,
        "D_rgb/gp": 0.05869649,
        "D_rgb/grad_norm": 1.003954,
        "D_rgb/loss": 1.246856,
        "D_rgb/wdist": 0.01967223,
        "D_seg/cls": 0.6811758,
        "D_seg/cls_acc": 0.5625,
        "D_seg/d_fake": -0.4529859,
        "D_seg/d_real": -0.3115155,
        "D_seg/gp": 77.65386,
        "D_seg/grad_norm": 8.284934,
        "D_seg/loss": 777.0784,
        "D_seg/wdist": 0.1414704,
        "G_rgb/cls": 0.6954024,
        "G_rgb/cls_acc": 0.4375,
        "G_rgb/g_adv": -0.04036391,
        "G_rgb/loss": 50.47891,
        "G_rgb/rec": 0.4353846,
        "G_rgb/sc": 2.678344,
        "G_rgb/sc_agree": 0.2456055,
        "G_seg/cls": 0.7015029,
        "G_seg/cls_acc": 0.375,
        "G_seg/g_adv": 0.4533625,
        "G_seg/loss": 251.1466,
        "G_seg/rec": 2.436545,
        "G_seg/sc": 2.373771,
        "G_seg/sc_agree": 0.2456055,
        "after/G_rgb_out_abs_mean": 0.2904995,
        "after/G_seg_out_max_mean": 0.1200748,
        "after/D_rgb_adv_mean": 0.1262249,
        "after/D_rgb_cls_abs_mean": 0.08180742,
    },
    "attgan-bf16": {
        "D_rgb/cls": 0.6797864,
        "D_rgb/cls_acc": 0.6875,
        "D_rgb/d_fake": 0.07995605,
        "D_rgb/d_real": 0.09887695,
        "D_rgb/gp": 0.06018037,
        "D_rgb/grad_norm": 1.010213,
        "D_rgb/loss": 1.262669,
        "D_rgb/wdist": 0.0189209,
        "D_seg/cls": 0.6809909,
        "D_seg/cls_acc": 0.5625,
        "D_seg/d_fake": -0.4538574,
        "D_seg/d_real": -0.3115234,
        "D_seg/gp": 78.25657,
        "D_seg/grad_norm": 8.320423,
        "D_seg/loss": 783.1043,
        "D_seg/wdist": 0.142334,
        "G_rgb/cls": 0.695772,
        "G_rgb/cls_acc": 0.4375,
        "G_rgb/g_adv": -0.04303741,
        "G_rgb/loss": 50.48551,
        "G_rgb/rec": 0.4354405,
        "G_rgb/sc": 2.677542,
        "G_rgb/sc_agree": 0.2429199,
        "G_seg/cls": 0.7020479,
        "G_seg/cls_acc": 0.375,
        "G_seg/g_adv": 0.4523926,
        "G_seg/loss": 251.14,
        "G_seg/rec": 2.436434,
        "G_seg/sc": 2.374414,
        "G_seg/sc_agree": 0.2353516,
        "after/G_rgb_out_abs_mean": 0.2904755,
        "after/G_seg_out_max_mean": 0.1200781,
        "after/D_rgb_adv_mean": 0.1256126,
        "after/D_rgb_cls_abs_mean": 0.08180013,
    },
}
# fmt: on


def _one_step(tmp_path, backbone: str, amp: bool) -> dict[str, float]:
    cfg = tiny_config(
        backbone, "secgan", "train.n_critic=1", f"train.amp={str(amp).lower()}", "data.flip=true"
    )
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(), parser=tiny_parser(), progress=False)
    batch = next(iter(tr._loader(0)))
    stats = tr.train_step(1, batch)
    out = {k: float(v) for k, v in stats.items()}
    b = tr.prepare_batch(batch)  # a second draw of the step's randomness: the same for before and after
    with torch.no_grad():
        x_out = tr.G_rgb(b.x, b.c)  # [4, 3, 32, 32] in [-1, 1]
        s_out = tr.G_seg(b.s_in, b.c)  # [4, 12, 32, 32] probabilities
        adv, cls = tr.D_rgb(b.x)
    out["after/G_rgb_out_abs_mean"] = float(x_out.float().abs().mean())
    out["after/G_seg_out_max_mean"] = float(s_out.float().amax(1).mean())
    out["after/D_rgb_adv_mean"] = float(adv.float().mean())
    out["after/D_rgb_cls_abs_mean"] = float(cls.float().abs().mean())
    return out


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_one_secgan_step_matches_the_reference(tmp_path, case):
    backbone, precision = case.split("-")
    got = _one_step(tmp_path, backbone, precision == "bf16")
    ref = REFERENCE[case]
    assert sorted(got) == sorted(ref)  # the same statistics, no more, no fewer
    rel, abs_ = (1e-2, 2e-3) if precision == "bf16" else (1e-3, 1e-4)
    for key, want in ref.items():
        assert got[key] == pytest.approx(want, rel=rel, abs=abs_), f"{case}: {key}"
