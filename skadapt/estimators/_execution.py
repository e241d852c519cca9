"""Where and how a fit or a prediction runs: the device, the precision, the random seed."""

import contextlib
import functools
import numbers
import os
import threading

import numpy as np

from .._hardware import cpu_flags


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when a GPU is present, else ``"cpu"``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' (or 'cuda:N') or 'mps', got {device!r}.")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but no CUDA GPU is available; use device='cpu' or 'auto'."
        )
    return device


PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# The CPU flags of native bfloat16 arithmetic: AVX-512 BF16 (Cooper Lake, Sapphire
# Rapids and later Xeons, Zen 4 and later) and AMX (Sapphire Rapids and later).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


# "0" or "1" overrides what the CPU reports: "0" pins precision="auto" to fp32, so that
# figures compared across machines (the test suite's) do not depend on the CPU.
BF16_ENV = "SKADAPT_CPU_BF16"


def cpu_native_bf16():
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX).

    ``SKADAPT_CPU_BF16=0`` (or ``1``) in the environment says so instead;
    otherwise see :func:`cpu_reports_bf16`.
    """
    forced = os.environ.get(BF16_ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return cpu_reports_bf16()


@functools.cache
def cpu_reports_bf16():
    """Whether the CPU has AVX-512 BF16 or AMX, as torch reports it
    (``torch.cpu._is_avx512_bf16_supported``, ``_is_amx_tile_supported``:
    cpuinfo's reading of the CPU), else from the flags in ``/proc/cpuinfo``.

    Without these, oneDNN emulates bfloat16 and autocast makes a fit slower,
    not faster.
    """
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes
        return any(flag in cpu_flags() for flag in BF16_CPU_FLAGS)


def native_bf16(device):
    """Whether ``device`` (resolved: ``"cpu"``, ``"cuda[:N]"``, ``"mps"``) computes bfloat16 natively."""
    import torch

    kind = device.split(":")[0]
    if kind == "cuda":
        try:  # pre-Ampere GPUs emulate bfloat16 (slowly) where torch allows it
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        except TypeError:  # an older torch, which does not count emulation
            return bool(torch.cuda.is_bf16_supported())
    if kind == "cpu":
        return cpu_native_bf16()
    return False  # mps: bfloat16 autocast not measured, full precision


def resolve_precision(precision, device):
    """The precision a fit or an encoding runs in on ``device``: ``"auto"`` becomes ``"bf16"``
    where the device computes bfloat16 natively and ``"fp32"`` elsewhere; other values stay."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r}.")
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


def check_precision(precision, device):
    """The autocast dtype for ``precision`` (``"auto"`` resolved) on ``device`` (``None`` for fp32)."""
    import torch

    precision = resolve_precision(precision, device)
    if precision == "fp32":
        return None
    if precision == "bf16" and device.startswith("cuda") and not torch.cuda.is_bf16_supported():
        raise ValueError(
            "precision='bf16' needs a GPU with bfloat16 support (Ampere or newer); use precision='fp16' on this GPU."
        )
    return torch.bfloat16 if precision == "bf16" else torch.float16


def precision_of(dtype):
    """The name of an autocast dtype (``None``: ``"fp32"``)."""
    import torch

    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def seed_from(random_state):
    """An int seed from ``random_state`` (``None`` stays ``None``: unseeded)."""
    if random_state is None:
        return None
    from sklearn.utils import check_random_state

    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


# torch has one global random generator per process, which weight initialisation,
# dropout and batch shuffling draw from and which cannot be made per thread:
# fits in several threads at once would interleave their draws (and restore
# each other's state), so they take turns. Predictions draw nothing from it
# (see ``_make_net``), so they run alongside.
_TRAINING = threading.RLock()


@contextlib.contextmanager
def seeded(seed, device):
    """Train inside the block: torch seeded with ``seed`` (``None``: unseeded),
    without changing the caller's global RNG state.

    Such blocks run one at a time in a process, so that the same seed gives
    the same model when clones are fitted in several threads at once.
    """
    if seed is None:
        with _TRAINING:
            yield
        return
    import torch

    devices = [torch.cuda.current_device()] if device.startswith("cuda") else []
    with _TRAINING, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
