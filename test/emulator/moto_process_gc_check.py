"""Checks local/moto_process.py's collect_when_idle: full collections wait while requests run and
happen once the server is idle, or under load that never pauses, after enough younger collections.
Prints one line per check; exits non-zero on the first that fails."""

import gc
import os
import sys
import threading
import time
import weakref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "local"))
import moto_process  # noqa: E402


class Node:
    pass


def old_cyclic_garbage() -> "weakref.ref[Node]":
    """A reference cycle that lived long enough to reach the oldest generation, then was dropped:
    only a full collection frees it. Enough younger collections ran that a full one is due."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    for _ in range(moto_process._FULL_COLLECTION_DUE + 2):
        gc.collect(1)
    ref = weakref.ref(a)
    del a, b
    return ref


def check(name: str, ok: bool) -> None:
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        sys.exit(1)


def busy(seconds: float) -> None:
    """Requests keep arriving: the server is never idle for long."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        moto_process._LAST_REQUEST[0] = time.monotonic()
        time.sleep(0.02)


lock = threading.RLock()
moto_process._LAST_REQUEST[0] = time.monotonic()
moto_process.collect_when_idle(lock)
check("no automatic full collections", gc.get_threshold()[2] >= 2**31 - 1)

ref = old_cyclic_garbage()
busy(0.6)
check("a due full collection waits while requests run", ref() is not None)

time.sleep(0.6)
check("and runs once the server is idle", ref() is None)

moto_process._FULL_COLLECTION_FORCED = moto_process._FULL_COLLECTION_DUE + 1
ref = old_cyclic_garbage()
busy(0.6)
check("under load that never pauses, it runs anyway", ref() is None)
