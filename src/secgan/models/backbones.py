"""The backbone table: every GAN backbone a run can train, in one place.

Each entry names the generator and critic classes (the semantic branch's ``G_seg`` / ``D_seg`` are the same
classes with 12 segment channels in and, for ``G_seg``, a softmax over the 12 out), which
:class:`~secgan.config.ModelConfig` field feeds each constructor argument, and the backbone's paper-size
defaults: widths, conditioning and loss weights. ``config.BACKBONES``, ``load_config``'s defaults for a
YAML that names a backbone, ``training.networks.build_networks``, the model registry's families and the
CLI choices all derive from :data:`BACKBONES`; adding a backbone is adding an entry here (docs/DESIGN.md,
"How to add a backbone").

The config object is duck-typed (``getattr`` by field name): this module sits below ``secgan.config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from secgan.errors import ConfigError
from secgan.models.attgan import AttGANDiscriminator, AttGANGenerator
from secgan.models.stargan import StarGANDiscriminator, StarGANGenerator
from secgan.models.stgan import STGANDiscriminator, STGANGenerator


@dataclass(frozen=True)
class Backbone:
    """One backbone: its networks, how the config feeds them, and its paper-size defaults.

    ``g_args`` / ``d_args``: constructor keyword -> ``ModelConfig`` field. ``model_defaults`` /
    ``loss_defaults``: ``ModelConfig`` / ``LossConfig`` values of the reference recipe (the base preset
    ``_base-{name}.yaml`` states the same values; a test keeps them equal).
    """

    name: str
    reference: str
    generator: type[nn.Module]
    discriminator: type[nn.Module]
    g_args: Mapping[str, str]
    d_args: Mapping[str, str]
    model_defaults: Mapping[str, Any] = field(default_factory=dict)
    loss_defaults: Mapping[str, Any] = field(default_factory=dict)

    def _kwargs(self, args: Mapping[str, str], model_cfg: Any) -> dict[str, Any]:
        return {arg: getattr(model_cfg, name) for arg, name in args.items()}

    def build_g(self, model_cfg: Any, n_attrs: int, in_channels: int = 3) -> nn.Module:
        """G_rgb: ``[N, in_channels, S, S]`` (3, or 3 + 12 in concat mode) -> RGB in ``[-1, 1]``."""
        kw = self._kwargs(self.g_args, model_cfg)
        return self.generator(in_channels=in_channels, out_channels=3, n_attrs=n_attrs, output="tanh", **kw)

    def build_g_seg(self, model_cfg: Any, n_attrs: int, n_segments: int) -> nn.Module:
        """G_seg: one-hot masks ``[N, 12, S, S]`` -> probabilities over the 12 segments (softmax; its
        ``with_log_probs`` gives the exact ``log_softmax`` too)."""
        kw = self._kwargs(self.g_args, model_cfg)
        return self.generator(
            in_channels=n_segments, out_channels=n_segments, n_attrs=n_attrs, output="softmax", **kw
        )

    def build_d(self, model_cfg: Any, image_size: int, n_attrs: int, in_channels: int = 3) -> nn.Module:
        """D_rgb (``in_channels=3``) or D_seg (12): ``[N, C, S, S] -> (adv, cls logits [N, n_a])``."""
        kw = self._kwargs(self.d_args, model_cfg)
        return self.discriminator(in_channels=in_channels, image_size=image_size, n_attrs=n_attrs, **kw)

    def build_d_seg(self, model_cfg: Any, image_size: int, n_attrs: int, n_segments: int) -> nn.Module:
        return self.build_d(model_cfg, image_size, n_attrs, in_channels=n_segments)


_ATTGAN_G = {
    "enc_dim": "g_conv_dim",
    "dec_dim": "g_conv_dim",
    "n_layers": "g_n_layers",
    "shortcut_layers": "g_shortcut_layers",
    "inject_layers": "g_inject_layers",
    "max_dim": "g_max_dim",
}
_ATTGAN_D = {"dim": "d_conv_dim", "n_layers": "d_n_layers", "fc_dim": "d_fc_dim", "max_dim": "d_max_dim"}
_ENC_DEC_D = {"d_conv_dim": 64, "d_n_layers": 5, "d_fc_dim": 1024, "d_max_dim": 1024}
# AttGAN and STGAN: batch 32, lr 2e-4; lambda_rec 100, lambda_cls 10 (G) / 1 (D), GP 10, BCE averaged
_ENC_DEC_LOSS = {
    "lambda_cls_g": 10.0,
    "lambda_cls_d": 1.0,
    "lambda_rec": 100.0,
    "lambda_gp": 10.0,
    "cls_reduction": "mean",
}

STARGAN = Backbone(
    name="stargan",
    reference="official StarGAN (yunjey/stargan), paper Table 2",
    generator=StarGANGenerator,
    discriminator=StarGANDiscriminator,
    g_args={"conv_dim": "g_conv_dim", "n_res": "g_n_res", "n_down": "g_n_down"},
    d_args={"conv_dim": "d_conv_dim", "n_layers": "d_n_layers"},
    model_defaults={
        "conditioning": "diff",
        "g_conv_dim": 64,
        "g_n_res": 6,
        "g_n_down": 2,
        "d_conv_dim": 64,
        "d_n_layers": 6,
    },
    loss_defaults={
        "lambda_cls_g": 1.0,
        "lambda_cls_d": 1.0,
        "lambda_rec": 10.0,
        "lambda_gp": 10.0,
        "cls_reduction": "sum_over_attrs_mean_over_batch",
    },
)

ATTGAN = Backbone(
    name="attgan",
    reference="AttGAN-PyTorch (elvisyjlin/AttGAN-PyTorch), paper Table 3",
    generator=AttGANGenerator,
    discriminator=AttGANDiscriminator,
    g_args=_ATTGAN_G,
    d_args=_ATTGAN_D,
    model_defaults={
        "conditioning": "diff",
        "g_conv_dim": 64,
        "g_n_layers": 5,
        "g_shortcut_layers": 1,
        "g_inject_layers": 1,
        "g_max_dim": 1024,
        **_ENC_DEC_D,
    },
    loss_defaults=_ENC_DEC_LOSS,
)

STGAN = Backbone(
    name="stgan",
    reference="official STGAN (csmliu/STGAN, TensorFlow 1), models.py and train.py defaults",
    generator=STGANGenerator,
    discriminator=STGANDiscriminator,
    g_args={
        **_ATTGAN_G,
        "stu_dim": "g_stu_dim",
        "stu_layers": "g_stu_layers",
        "stu_inject_layers": "g_stu_inject_layers",
    },
    d_args=_ATTGAN_D,
    model_defaults={
        # train.py trains on (b - a) * 2 * thres_int with thres_int 0.5, i.e. y_trg - y_src: "diff"
        "conditioning": "diff",
        "target_scale": 0.5,
        "g_conv_dim": 64,
        "g_n_layers": 5,
        "g_shortcut_layers": 4,
        "g_inject_layers": 4,
        "g_stu_dim": 64,
        "g_stu_layers": 4,
        "g_stu_inject_layers": 4,
        "g_max_dim": 1024,
        **_ENC_DEC_D,
    },
    loss_defaults=_ENC_DEC_LOSS,
)

BACKBONES: dict[str, Backbone] = {b.name: b for b in (STARGAN, ATTGAN, STGAN)}
BACKBONE_NAMES: tuple[str, ...] = tuple(BACKBONES)


def get_backbone(name: str) -> Backbone:
    """The table entry of ``name``; one-line :class:`ConfigError` naming the valid choices otherwise."""
    if name not in BACKBONES:
        raise ConfigError(f"model.backbone={name!r} is not valid; choose one of: {', '.join(BACKBONE_NAMES)}")
    return BACKBONES[name]


def network_classes() -> list[type[nn.Module]]:
    """Every generator and critic class of the table (for the model registry's families)."""
    return [cls for b in BACKBONES.values() for cls in (b.generator, b.discriminator)]
