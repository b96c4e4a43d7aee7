"""The frozen parser's pass in float32 where bf16 is not native (objective.float32_pass, issue 23)."""

from __future__ import annotations

import torch
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser
from torch import nn

from secgan.training import objective
from secgan.training.trainer import Trainer


def test_float32_pass_is_the_float32_computation_and_keeps_the_gradient():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(2, 3, 8, 8).to(torch.bfloat16).requires_grad_(True)  # a bf16 G_rgb output
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = objective.float32_pass(conv)(x)
        y_bf16 = conv(x)
    assert y.dtype == torch.float32 and y_bf16.dtype == torch.bfloat16
    torch.testing.assert_close(y, conv(x.detach().float()), rtol=0, atol=0)  # bitwise the float32 pass
    assert (y - y_bf16.float()).abs().max() > 0  # autocast would have run it in bf16
    y.sum().backward()
    assert x.grad is not None and x.grad.dtype == torch.bfloat16 and x.grad.abs().sum() > 0


def test_the_trainer_runs_the_parser_in_float32_only_where_bf16_is_not_native(tmp_path, monkeypatch):
    parser = tiny_parser()
    for native in (False, True):  # bf16 autocast (train.amp) in both
        monkeypatch.setattr(objective, "native_bf16", lambda _device, native=native: native)
        cfg = tiny_config("stargan", "secgan", "train.amp=true")
        tr = Trainer(cfg, tmp_path / f"r{native}", dataset=ToyFaces(), parser=parser, progress=False)
        x = torch.rand(2, 3, 32, 32).to(torch.bfloat16) * 2 - 1
        wrapped = tr.parser_log_probs != parser.log_probs12
        assert wrapped == (not native)
        if wrapped:  # a bf16 input is parsed in float32
            torch.testing.assert_close(tr.parser_log_probs(x), parser.log_probs12(x.float()), rtol=0, atol=0)
