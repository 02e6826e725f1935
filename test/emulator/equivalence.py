"""What the emulator equivalence scripts share (test/unit/moto-speedups.test.ts runs each twice, `raw`
and `patched`, in separate processes, since the speed-ups patch moto in place, and requires
identical output): choosing the side, and printing what each call returned as one JSON line."""

import atexit
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "local"))


def choose_side(script: str) -> None:
    """`patched`: apply local/moto_speedups.py, and print its STATS on stderr at exit; `raw`: moto as is."""
    if sys.argv[1:] == ["patched"]:
        import moto_speedups

        moto_speedups.apply()
        atexit.register(lambda: print(json.dumps(moto_speedups.STATS), file=sys.stderr))
    elif sys.argv[1:] != ["raw"]:
        sys.exit(f"usage: {script} raw|patched")


def run(name, call, normalize=lambda value: value, error_fields=lambda response: {}):  # type: ignore[no-untyped-def]
    """Prints the case's result (normalized) or its error code and message; returns the result, or {}."""
    from botocore.exceptions import ClientError

    try:
        result = call()
        result.pop("ResponseMetadata", None)
        out = {"ok": normalize(result)}
    except ClientError as err:
        error = err.response.get("Error", {})
        out = {"error": error.get("Code"), "message": normalize(error.get("Message")), **error_fields(err.response)}
    except Exception as err:  # moto itself failing (a 500 from the server) counts as an answer too
        out = {"raised": type(err).__name__, "message": str(err)}
    print(json.dumps({"case": name, **out}, sort_keys=True, default=str))
    return result if "ok" in out else {}
