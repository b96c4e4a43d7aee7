"""The key names and shapes of the public face-parsing ``79999_iter.pth``, written out from the
architecture of zllrunning/face-parsing.PyTorch (model.py + resnet.py, paper-notes §5), independently of our
module, for the strict-load tests."""

from __future__ import annotations


def public_bisenet_shapes(n_classes: int = 19) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}

    def conv(p: str, o: int, i: int, k: int) -> None:
        shapes[f"{p}.weight"] = (o, i, k, k)

    def bn(p: str, c: int) -> None:
        for n in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{p}.{n}"] = (c,)
        shapes[f"{p}.num_batches_tracked"] = ()

    def cbr(p: str, o: int, i: int, k: int) -> None:  # ConvBNReLU
        conv(f"{p}.conv", o, i, k)
        bn(f"{p}.bn", o)

    conv("cp.resnet.conv1", 64, 3, 7)
    bn("cp.resnet.bn1", 64)
    for layer, (cin, cout, stride) in enumerate([(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)], 1):
        for b in range(2):
            p = f"cp.resnet.layer{layer}.{b}"
            conv(f"{p}.conv1", cout, cin if b == 0 else cout, 3)
            bn(f"{p}.bn1", cout)
            conv(f"{p}.conv2", cout, cout, 3)
            bn(f"{p}.bn2", cout)
            if b == 0 and (cin != cout or stride != 1):
                conv(f"{p}.downsample.0", cout, cin, 1)
                bn(f"{p}.downsample.1", cout)
    for name, cin in (("arm16", 256), ("arm32", 512)):
        cbr(f"cp.{name}.conv", 128, cin, 3)
        conv(f"cp.{name}.conv_atten", 128, 128, 1)
        bn(f"cp.{name}.bn_atten", 128)
    cbr("cp.conv_head32", 128, 128, 3)
    cbr("cp.conv_head16", 128, 128, 3)
    cbr("cp.conv_avg", 128, 512, 1)
    cbr("ffm.convblk", 256, 256, 1)
    conv("ffm.conv1", 64, 256, 1)
    conv("ffm.conv2", 256, 64, 1)
    for name, cin, mid in (("conv_out", 256, 256), ("conv_out16", 128, 64), ("conv_out32", 128, 64)):
        cbr(f"{name}.conv", mid, cin, 3)
        conv(f"{name}.conv_out", n_classes, mid, 1)
    return shapes
