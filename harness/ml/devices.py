"""Devices: which device a run uses, the process layout under torchrun / accelerate launch, and the Trainer
settings every training run here shares."""

from __future__ import annotations

import os
from typing import Any

from harness.core.errors import NotRunError

# ---------------------------------------------------------------- devices


def distributed() -> tuple[int, int]:
    """(rank, world size) of this process under torchrun/accelerate; (0, 1) otherwise."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def resolve_device(requested: str) -> str:
    """The device this process uses for ``requested`` (cpu, cuda or cuda:N).

    Outside torchrun a GPU run is pinned to one GPU through ``CUDA_VISIBLE_DEVICES`` before CUDA starts, so
    that Trainer neither trains every pytest-xdist worker on GPU 0 nor spreads one run over all GPUs with
    DataParallel: ``cuda:N`` gets GPU N, ``cuda`` gets GPU ``N % count`` in worker ``gwN``. Under torchrun
    each rank uses its ``LOCAL_RANK``.
    """
    if requested == "cpu":
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        raise NotRunError(
            f"device {requested!r} was asked for but no CUDA device is visible",
            "run on a machine with an NVIDIA GPU and a CUDA build of torch, or pass --claims-device cpu",
        )
    if distributed()[1] > 1:
        return f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    if requested.startswith("cuda:"):
        index = int(requested.removeprefix("cuda:"))
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        index = int(worker) if worker.isdigit() else 0
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = (
        visible.split(",")
        if visible and not torch.cuda.is_initialized()
        else [str(i) for i in range(torch.cuda.device_count())]
    )
    if requested.startswith("cuda:") and index >= len(ids):
        raise NotRunError(
            f"device {requested!r} was asked for but {len(ids)} CUDA device(s) are visible",
            f"pass --claims-device cuda:0 ... cuda:{len(ids) - 1}, or cuda",
        )
    if not torch.cuda.is_initialized():
        os.environ["CUDA_VISIBLE_DEVICES"] = ids[index % len(ids)]
        return "cuda:0"
    return f"cuda:{index % len(ids)}"


def training_arguments(output_dir: str, seed: int, cuda: bool, bf16: bool, **arguments: Any) -> Any:
    """transformers' ``TrainingArguments`` with what every training run here shares: no checkpoints, no
    evaluation or reports during training, the seed for the data order too, this run's device and precision
    (bf16 with TF32 on CUDA), no loader workers, and no Trainer bar (``harness.core.progress`` shows one that
    names the claim). ``arguments``: the run's own (batch size, learning rate, steps, logging)."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=output_dir,
        seed=seed,
        data_seed=seed,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        use_cpu=not cuda,
        bf16=bf16,
        tf32=True if cuda and bf16 else None,
        dataloader_num_workers=0,
        disable_tqdm=True,
        **arguments,
    )
