"""The machine a benchmark ran on: the CPU's name and the flags that decide what bf16 and int8 gain.

Every speed figure in benchmarks/README.md goes with these, so every script reads them here.
"""

from skadapt._hardware import cpu_flags as _present

# The CPU flags that decide what int8 (VNNI) and bf16 (AVX-512 BF16, AMX) gain.
FLAGS = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags():
    """Those of ``FLAGS`` this CPU has, in that order (none where there is no /proc/cpuinfo)."""
    present = _present()
    return [flag for flag in FLAGS if flag in present]


def cpu_flags_text():
    """``cpu_flags()`` as one line for a results table."""
    return " ".join(cpu_flags()) or "none of " + ", ".join(FLAGS)


def cpu_model():
    """The CPU's model name from /proc/cpuinfo ("" where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        return ""
