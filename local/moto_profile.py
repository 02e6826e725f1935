"""Diagnostics for the emulator (local/moto_launcher.py): off unless SUNDOWN_MOTO_PROFILE is set."""


def service_time_profile():  # type: ignore[no-untyped-def]
    """With SUNDOWN_MOTO_PROFILE=<file>: time spent serving each operation, written on exit.

    A diagnostic for the benchmarks (requests are serialized, so the time inside the lock is the
    emulator's cost of each call). Operations are named by X-Amz-Target, or by the SigV4 service
    for query-protocol calls (their Action is in the body, which is not read here).
    """
    import io
    import json
    import os
    import re
    import threading
    import time

    path = os.environ.get("SUNDOWN_MOTO_PROFILE")
    if not path:
        return None
    totals: dict = {}

    class Profile:
        clock = staticmethod(time.perf_counter)

        @staticmethod
        def name(environ):  # type: ignore[no-untyped-def]
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if not target:
                scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
                action = re.search(r"Action=(\w+)", environ.get("QUERY_STRING", ""))
                if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                    environ["wsgi.input"] = io.BytesIO(body)
                    action = re.search(rb"Action=(\w+)", body)
                    action = action and re.match(r"(.*)", action.group(1).decode())
                target = "%s:%s" % (scope.group(1) if scope else "?", action.group(1) if action else environ.get("REQUEST_METHOD", ""))
            environ["sundown.profile_name"] = target

        @staticmethod
        def record(environ, seconds):  # type: ignore[no-untyped-def]
            target = environ.get("sundown.profile_name", "?")
            entry = totals.setdefault(target, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    def dump() -> None:
        # Written every second (the emulator may be killed without notice).
        while True:
            time.sleep(1)
            snapshot = {k: {"calls": v[0], "seconds": round(v[1], 3)} for k, v in list(totals.items())}
            with open(path + ".tmp", "w") as f:
                json.dump(snapshot, f, indent=1)
            os.replace(path + ".tmp", path)

    threading.Thread(target=dump, daemon=True).start()
    return Profile
