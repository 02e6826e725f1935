"""How the emulator's server process runs (applied by moto_launcher.py): every request alone, as
each AWS API call is atomic, full garbage collections between requests, and never past the Node
process that started it."""

import time


def serialize_requests():  # type: ignore[no-untyped-def]
    """Make every request atomic, as each AWS API call is.

    moto's threaded server has no locking: two concurrent conditional writes
    to one DynamoDB item (or two TransactWriteItems on one chain head) can both
    pass their condition, which AWS never allows. Sundown's idempotency and
    its audit chain rely on those conditions, so requests run one at a time.
    (Nothing Sundown does long-polls, so no request holds the lock for long.)
    Returns the lock (moto_fork.py holds it while it forks).
    """
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.RLock()
    original = DomainDispatcherApplication.__call__

    import moto_profile  # local/, on sys.path (see main)

    profile = moto_profile.service_time_profile()

    def locked(self, environ, start_response):  # type: ignore[no-untyped-def]
        with lock:
            try:
                if profile is None:
                    return list(original(self, environ, start_response))
                profile.name(environ)
                started = profile.clock()
                try:
                    return list(original(self, environ, start_response))
                finally:
                    profile.record(environ, profile.clock() - started)
            finally:
                _LAST_REQUEST[0] = time.monotonic()

    DomainDispatcherApplication.__call__ = locked
    return lock


_LAST_REQUEST = [time.monotonic()]

# A full collection is due after this many younger collections (CPython's own default is 10).
_FULL_COLLECTION_DUE = 10
# Under load that never pauses, one is run anyway after this many (memory stays bounded).
_FULL_COLLECTION_FORCED = 200
# The server counts as idle once no request has run for this long.
_IDLE_SECONDS = 0.25


def collect_when_idle(lock) -> None:  # type: ignore[no-untyped-def]
    """Run Python's full garbage collections between requests, not inside one.

    moto keeps every item, message and event it ever stored, so a full (generation 2) collection
    walks all of them: by the end of a bench run each one took 100-280 ms, and since requests run
    one at a time (serialize_requests), every request waited behind it. Generations 0 and 1 still
    collect as CPython decides; full collections are left to a daemon thread, which runs them
    holding the request lock once the server has been idle for a moment (or, under load that never
    pauses, after _FULL_COLLECTION_FORCED younger collections). When objects are collected changes
    no answer.
    """
    import gc
    import threading

    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 2**31 - 1)  # never automatically: the thread below runs them

    def due() -> bool:
        pending = gc.get_count()[2]
        idle = time.monotonic() - _LAST_REQUEST[0] >= _IDLE_SECONDS
        return (idle and pending >= _FULL_COLLECTION_DUE) or pending >= _FULL_COLLECTION_FORCED

    def collect() -> None:
        while True:
            time.sleep(0.1)
            if due():
                with lock:
                    if due():  # again: a request may have run while this thread waited for the lock
                        gc.collect()

    threading.Thread(target=collect, daemon=True).start()


def exit_with_parent() -> None:
    """Never outlive the Node process that started us (no orphan servers).

    Node kills the server on exit and on SIGINT/SIGTERM, but a `kill -9` of Node
    or a crashed test worker cannot run handlers. SUNDOWN_PARENT_PID names the
    parent; a daemon thread exits this process once that PID is gone.
    """
    import os
    import threading
    import time

    parent = int(os.environ.get("SUNDOWN_PARENT_PID", "0") or 0)
    if parent <= 0:
        return

    def watch() -> None:
        while True:
            try:
                os.kill(parent, 0)
            except OSError:
                os._exit(0)
            time.sleep(1)

    threading.Thread(target=watch, daemon=True).start()
