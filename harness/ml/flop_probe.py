"""FLOP counts and peak FLOP/s: the sanity check that a timing is physically plausible."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from harness.core.environment import cpu_model
from harness.ml.flops import attention_kernel_formulas

#: sequence lengths at which FLOPs are counted; FLOPs of an encoder are a quadratic in the length
FLOP_PROBE_LENGTHS = (8, 16, 32)


def flop_polynomial(model: Any, device: str, vocab: int) -> tuple[float, float, float]:
    """(c0, c1, c2) with FLOPs(one sequence of length L) = c0 + c1*L + c2*L**2, counted by torch's
    FlopCounterMode (matrix products and attention kernels) at three lengths: an encoder's count is exactly
    quadratic in L, so three points determine it. Element-wise work (softmax, GELU, layer norm) is not
    counted, as usual for FLOP counts."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counts = []
    for length in FLOP_PROBE_LENGTHS:
        ids = torch.randint(1, vocab, (1, length), device=device)
        counter = FlopCounterMode(display=False, custom_mapping=attention_kernel_formulas())
        with counter, torch.inference_mode():
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
        counts.append(float(counter.get_total_flops()))
    lengths = np.asarray(FLOP_PROBE_LENGTHS, dtype=float)
    coeffs = np.linalg.solve(np.vander(lengths, 3, increasing=True), np.asarray(counts))
    return float(coeffs[0]), float(coeffs[1]), float(coeffs[2])


def cpu_peak_flops(threads: int) -> tuple[float | None, str]:
    """An estimate of the CPU's fp32 peak FLOP/s for ``threads`` cores, and how it was estimated.

    cores x nominal clock x FLOPs per cycle per core: 64 with AVX-512 (2 FMA units x 16 lanes x 2 assumed;
    some CPUs have one unit), 32 with AVX2+FMA, 16 with AVX, 8 otherwise. Turbo and AVX frequency offsets
    are ignored: the estimate is a sanity bound, not a specification.
    """
    name = cpu_model()
    flags: set[str] = set()
    mhz: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "flags" and not flags:
                flags = set(value.split())
            elif key.strip() == "cpu MHz" and mhz is None:
                mhz = float(value)
    except (OSError, ValueError):
        pass
    match = re.search(r"@\s*([0-9.]+)\s*GHz", name)
    ghz = float(match.group(1)) if match else (mhz / 1000.0 if mhz else None)
    if ghz is None:
        return None, "no estimate: the CPU's clock is not known (no '@ x GHz' in its name, no cpu MHz)"
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512, 2 FMA units x 16 fp32 lanes x 2 assumed"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, isa = 32, "AVX2 + FMA, 2 FMA units x 8 lanes x 2 assumed"
    elif "avx" in flags:
        per_cycle, isa = 16, "AVX, 8 lanes x (mul + add)"
    else:
        per_cycle, isa = 8, "SSE or unknown vector unit: 4 lanes x (mul + add)"
    cores = min(threads, os.cpu_count() or threads)
    peak = cores * ghz * 1e9 * per_cycle
    return peak, f"{cores} cores x {ghz:g} GHz (nominal) x {per_cycle} fp32 FLOP/cycle ({isa}); turbo ignored"


# ---------------------------------------------------------------- the paired run
