"""The face-parsing BiSeNet (ResNet-18 context path, no spatial path), 19 CelebAMask-HQ classes.

With the default ``base_width=64`` the state dict has exactly the key names and shapes of the public
``79999_iter.pth`` (``cp.resnet.*``, ``cp.arm16.*``, ``cp.arm32.*``, ``cp.conv_head32.*``,
``cp.conv_head16.*``, ``cp.conv_avg.*``, ``ffm.*``, ``conv_out.*``, ``conv_out16.*``, ``conv_out32.*``), so
that file loads strictly. Unlike the public constructor, nothing is downloaded: the ResNet-18 starts from
random weights (training from scratch, or importing the public checkpoint, fills it).

A smaller ``base_width`` scales every width proportionally (ResNet stages ``w, 2w, 4w, 8w``; heads ``2w``
and ``4w``), for a fast parser on small synthetic images; its keys are the same, its shapes are not.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from secgan.errors import ConfigError

# The input normalisation every BiSeNet here is trained and imported with (ImageNet statistics, [0, 1] RGB).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ConvBNReLU(nn.Module):
    """conv (no bias) - BN - ReLU; keys ``conv.weight``, ``bn.*``."""

    def __init__(self, in_ch: int, out_ch: int, ks: int = 3, stride: int = 1, padding: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, ks, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class BasicBlock(nn.Module):
    """ResNet basic block; a 1x1 conv + BN ``downsample`` when the shape changes."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.downsample: nn.Module | None = None
        if in_ch != out_ch or stride != 1:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = F.relu(self.bn1(self.conv1(x)))
        r = self.bn2(self.conv2(r))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(shortcut + r)


class ResNet18Trunk(nn.Module):
    """ResNet-18 without its classifier: ``x [N, 3, H, W]`` -> features at strides 8, 16, 32."""

    def __init__(self, w: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(w, w, 1), BasicBlock(w, w))
        self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2), BasicBlock(2 * w, 2 * w))
        self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 4 * w))
        self.layer4 = nn.Sequential(BasicBlock(4 * w, 8 * w, 2), BasicBlock(8 * w, 8 * w))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        feat8 = self.layer2(self.layer1(x))
        feat16 = self.layer3(feat8)
        feat32 = self.layer4(feat16)
        return feat8, feat16, feat32


class AttentionRefinementModule(nn.Module):
    """ConvBNReLU, then a channel attention (global pool, 1x1 conv, BN, sigmoid) multiplied in."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = ConvBNReLU(in_ch, out_ch, 3, 1, 1)
        self.conv_atten = nn.Conv2d(out_ch, out_ch, 1, bias=False)
        self.bn_atten = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv(x)
        atten = torch.sigmoid(self.bn_atten(self.conv_atten(F.adaptive_avg_pool2d(feat, 1))))
        return feat * atten


class ContextPath(nn.Module):
    """ResNet trunk + ARMs + global context: ``x`` -> (feat8 ``[N, 2w, H/8, W/8]``, refined 1/16 features
    upsampled to 1/8 ``[N, 2w, H/8, W/8]``, refined 1/32 features upsampled to 1/16 ``[N, 2w, H/16, W/16]``)."""

    def __init__(self, w: int = 64) -> None:
        super().__init__()
        self.resnet = ResNet18Trunk(w)
        self.arm16 = AttentionRefinementModule(4 * w, 2 * w)
        self.arm32 = AttentionRefinementModule(8 * w, 2 * w)
        self.conv_head32 = ConvBNReLU(2 * w, 2 * w, 3, 1, 1)
        self.conv_head16 = ConvBNReLU(2 * w, 2 * w, 3, 1, 1)
        self.conv_avg = ConvBNReLU(8 * w, 2 * w, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feat8, feat16, feat32 = self.resnet(x)
        avg = self.conv_avg(F.adaptive_avg_pool2d(feat32, 1))
        feat32_sum = self.arm32(feat32) + F.interpolate(avg, feat32.shape[2:], mode="nearest")
        feat32_up = self.conv_head32(F.interpolate(feat32_sum, feat16.shape[2:], mode="nearest"))
        feat16_sum = self.arm16(feat16) + feat32_up
        feat16_up = self.conv_head16(F.interpolate(feat16_sum, feat8.shape[2:], mode="nearest"))
        return feat8, feat16_up, feat32_up  # strides 8, 8, 16


class FeatureFusionModule(nn.Module):
    """Concatenate, ConvBNReLU 1x1, then a squeeze-excitation style attention added back."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.convblk = ConvBNReLU(in_ch, out_ch, 1, 1, 0)
        self.conv1 = nn.Conv2d(out_ch, out_ch // 4, 1, bias=False)
        self.conv2 = nn.Conv2d(out_ch // 4, out_ch, 1, bias=False)

    def forward(self, fsp: torch.Tensor, fcp: torch.Tensor) -> torch.Tensor:
        feat = self.convblk(torch.cat([fsp, fcp], dim=1))
        atten = torch.sigmoid(self.conv2(F.relu(self.conv1(F.adaptive_avg_pool2d(feat, 1)))))
        return feat * atten + feat


class BiSeNetOutput(nn.Module):
    """ConvBNReLU 3x3 then a 1x1 conv (no bias) to the class logits."""

    def __init__(self, in_ch: int, mid_ch: int, n_classes: int) -> None:
        super().__init__()
        self.conv = ConvBNReLU(in_ch, mid_ch, 3, 1, 1)
        self.conv_out = nn.Conv2d(mid_ch, n_classes, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(self.conv(x))


class BiSeNet(nn.Module):
    """Face-parsing BiSeNet: ``x [N, 3, H, W]`` (ImageNet-normalised RGB) -> ``(out, out16, out32)``, each
    ``[N, n_classes, H, W]`` logits upsampled (bilinear, align_corners=True) from stride 8 / 8 / 16 to the
    input size; ``out`` is the main prediction, the other two are the auxiliary heads used for training."""

    family = "bisenet"

    def __init__(self, n_classes: int = 19, base_width: int = 64) -> None:
        super().__init__()
        if base_width < 4 or base_width % 4:
            raise ConfigError(f"BiSeNet base_width must be a positive multiple of 4, got {base_width}")
        self.spec_kwargs = dict(n_classes=n_classes, base_width=base_width)
        w = base_width
        self.cp = ContextPath(w)
        self.ffm = FeatureFusionModule(4 * w, 4 * w)
        self.conv_out = BiSeNetOutput(4 * w, 4 * w, n_classes)
        self.conv_out16 = BiSeNetOutput(2 * w, w, n_classes)
        self.conv_out32 = BiSeNetOutput(2 * w, w, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=1)

    def forward(
        self, x: torch.Tensor, output_size: tuple[int, int] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``output_size`` (default: the input's ``H, W``) is where the logits are upsampled to; a caller
        that needs them at another size (the frozen parser runs at its input size but answers at the
        image's) saves an upsample-then-resize."""
        size = tuple(x.shape[2:]) if output_size is None else tuple(output_size)
        feat8, feat_cp8, feat_cp16 = self.cp(x)
        feat_fuse = self.ffm(feat8, feat_cp8)  # the stride-8 ResNet feature replaces the spatial path

        def up(t: torch.Tensor) -> torch.Tensor:
            return F.interpolate(t, size, mode="bilinear", align_corners=True)

        return up(self.conv_out(feat_fuse)), up(self.conv_out16(feat_cp8)), up(self.conv_out32(feat_cp16))
