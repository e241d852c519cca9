"""Where and how a fit or a prediction runs: the device, the precision, the random seed."""

import contextlib
import numbers
import threading

import numpy as np


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


PRECISIONS = ("fp32", "bf16", "fp16")


def check_precision(precision, device):
    """The autocast dtype for ``precision`` on ``device`` (``None`` for fp32)."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "fp32":
        return None
    if precision == "bf16" and device.startswith("cuda") and not torch.cuda.is_bf16_supported():
        raise ValueError(
            "precision='bf16' needs a GPU with bfloat16 support (Ampere or newer); use precision='fp16' on this GPU."
        )
    return torch.bfloat16 if precision == "bf16" else torch.float16


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
