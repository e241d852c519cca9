"""What this machine's CPU can do: the feature flags that decide what bf16 and int8 gain on it."""

import functools


@functools.cache
def cpu_flags():
    """The x86 feature flags of this machine's CPU, from ``/proc/cpuinfo`` (empty where there is
    none, as on macOS and Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()
