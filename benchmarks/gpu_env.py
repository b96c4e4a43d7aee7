"""The environment a GPU figure was measured in, as JSON: torch / CUDA / cuDNN / NCCL versions, the GPU's
name, memory and compute capability, whether bf16 and TF32 are available (and TF32's switches), and which
of the project's dependencies are installed.

    python benchmarks/gpu_env.py            # works without CUDA too (cuda_available: false)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys

# the distributions in pyproject.toml (and the optional photo / test ones), plus triton (inductor's GPU code)
DEPENDENCIES = (
    "torchvision",
    "numpy",
    "pillow",
    "pyyaml",
    "tqdm",
    "safetensors",
    "tensorboard",
    "scipy",
    "matplotlib",
    "opencv-python-headless",
    "scikit-image",
    "pytest",
    "pytest-timeout",
    "dlib-bin",
    "triton",
)


def _versions() -> dict[str, str | None]:
    """Installed version of each dependency (None: not installed), from the package metadata."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for dist in DEPENDENCIES:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def _nvidia_smi() -> str | None:
    if not shutil.which("nvidia-smi"):
        return None
    try:
        q = "--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit"
        proc = subprocess.run(
            ["nvidia-smi", q, "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
        return proc.stdout.strip() or proc.stderr.strip()
    except (OSError, subprocess.SubprocessError) as err:
        return f"failed: {err}"


def environment() -> dict:
    import torch

    env: dict = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "dependencies": _versions(),
    }
    if not torch.cuda.is_available():
        return env
    dev = torch.device("cuda", torch.cuda.current_device())
    props = torch.cuda.get_device_properties(dev)
    major, minor = torch.cuda.get_device_capability(dev)
    env.update(
        {
            "gpu": torch.cuda.get_device_name(dev),
            "gpu_count": torch.cuda.device_count(),
            "gpu_memory_gib": round(props.total_memory / 2**30, 2),
            "multiprocessors": props.multi_processor_count,
            "compute_capability": f"{major}.{minor}",
            "cudnn": torch.backends.cudnn.version(),
            "nccl": ".".join(map(str, torch.cuda.nccl.version())) if hasattr(torch.cuda, "nccl") else None,
            "bf16_supported": torch.cuda.is_bf16_supported(),
            # TF32 tensor cores exist from Ampere (8.0) on; whether fp32 work uses them is up to the switches
            "tf32_available": major >= 8,
            "tf32_cudnn_conv": torch.backends.cudnn.allow_tf32,
            "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "nvidia_smi": _nvidia_smi(),
        }
    )
    x = torch.ones(1024, 1024, device=dev, dtype=torch.bfloat16)
    env["bf16_matmul_ok"] = bool(torch.isfinite(x @ x).all())
    return env


def main() -> int:
    sys.stdout.write(json.dumps(environment(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
