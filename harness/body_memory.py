"""Memory that bodies read from the target take, given back as soon as they
are freed: the run's peak stays a few hundred MB even when a target answers
every request with the largest body allowed (--max-response-bytes).

Two things would otherwise keep freed bodies counted against the process:

- Reference cycles. A check's answer is freed as soon as nothing refers to
  it, unless it sits in a cycle: httpx's client wraps each answer's stream in
  one that refers back to the answer, and a failed check's traceback (pytest's
  ExceptionInfo and the frames it holds refer to each other) keeps every answer
  its frames hold. Cycles are freed only when the cyclic GC runs, and it runs
  by counting objects, not bytes: a few objects holding 10 MB each barely move
  its counters, so such garbage piled up to hundreds of MB. `BodyReclaimer`
  counts the bytes instead.
- glibc's malloc. An allocation past its mmap threshold gets a mapping of its
  own, unmapped when freed; but each such block freed raises the threshold to
  its size (up to 32 MB), after which bodies come from the heap, where freed
  memory mostly stays with the process. `keep_bodies_mapped` pins the
  threshold (measured: a run against a target padding every `GET /projects` to
  10 MB peaked at 328 MB without it, 212 MB with it).
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading

# garbage of at most this many body bytes waits for a collection; a full
# collection costs ~0.1-0.3 s in a harness process, and an ordinary run reads
# far less than this between two of the GC's own full collections
RECLAIM_EVERY_BYTES = 64 * 1024 * 1024
# allocations from this size on get their own mapping (glibc's default starts at 128 KiB)
MMAP_THRESHOLD_BYTES = 1024 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, <malloc.h>


class BodyReclaimer:
    """Runs the cyclic GC once every `every` bytes of bodies read."""

    def __init__(self, every: int = RECLAIM_EVERY_BYTES) -> None:
        self.every = every
        self.collections = 0
        self._read = 0
        self._lock = threading.Lock()

    def read(self, n: int) -> None:
        with self._lock:
            self._read += n
            if self._read < self.every:
                return
            self._read = 0
            self.collections += 1
        gc.collect()


_pinned = False


def keep_bodies_mapped() -> bool:
    """Pin glibc's mmap threshold, once per process; False where there is no
    glibc (the threshold is glibc's notion) or the operator chose one already
    (MALLOC_MMAP_THRESHOLD_ in the environment)."""
    global _pinned
    if _pinned:
        return True
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _pinned = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    return _pinned
