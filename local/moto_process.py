"""How the emulator's server process runs (applied by moto_launcher.py): every request alone, as
each AWS API call is atomic, and never past the Node process that started it."""


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
            if profile is None:
                return list(original(self, environ, start_response))
            profile.name(environ)
            started = profile.clock()
            try:
                return list(original(self, environ, start_response))
            finally:
                profile.record(environ, profile.clock() - started)

    DomainDispatcherApplication.__call__ = locked
    return lock


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
