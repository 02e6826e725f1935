"""Copies of a running emulator, made by fork: `POST /_sundown/fork` (moto_launcher.py --forkable).

The integration tests deploy Sundown once into one emulator and give every test file a copy of
it (local/emulator.ts forkEmulator). A copy is a child process forked while the emulator holds its
request lock (no request is half-applied), serving on a free loopback port of its own: it starts
with every resource, item and message of the original and from then on shares nothing with it
(copy-on-write memory). Deploying the same cloud assembly into a fresh emulator gives the same
state; the fork saves starting Python and moto and running the CDK CLI, per test file.

The response is `{"pid": <child>, "port": <port>}`. The copy exits with SIGTERM or SIGINT, and by
itself once the process named by `parentPid` in the request body is gone (as every emulator does
when the process that started it dies; see exit_with_parent in moto_process.py).
"""

import json
import os
import signal
import threading


def _serve_copy(app, lock, environ, write_port, parent_pid, exit_with_parent):  # type: ignore[no-untyped-def]
    """In the child: close the original's sockets, serve on a new port, never return."""
    from werkzeug.serving import make_server

    for sock in (getattr(_LISTENER, "socket", None), environ.get("werkzeug.socket")):
        try:
            if sock is not None:
                sock.close()
        except OSError:
            pass
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: os._exit(0))
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    os.environ["MOTO_PORT"] = str(server.port)
    os.environ["SUNDOWN_PARENT_PID"] = str(parent_pid)
    os.write(write_port, str(server.port).encode())
    os.close(write_port)
    exit_with_parent()
    # This thread took the request lock in the original (so that nothing was half-applied when it
    # forked) and is the only thread of the copy: release it, or no request would ever run.
    lock.release()
    server.serve_forever()


def _fork(app, lock, exit_with_parent, environ, start_response):  # type: ignore[no-untyped-def]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or -1)
    parent_pid = int(json.loads(body or b"{}").get("parentPid") or 0)
    read_port, write_port = os.pipe()
    with lock:
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_port)
                _serve_copy(app, lock, environ, write_port, parent_pid, exit_with_parent)
            finally:
                os._exit(1)
    os.close(write_port)
    chunks = []
    while True:
        chunk = os.read(read_port, 64)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_port)
    port = b"".join(chunks).decode()
    if not port:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"the forked emulator exited before it listened"]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"pid": pid, "port": int(port)}).encode()]


_LISTENER = None


def install(lock, exit_with_parent) -> None:  # type: ignore[no-untyped-def]
    """Serve POST /_sundown/fork. `lock` is the request lock of serialize_requests (an RLock);
    `exit_with_parent` starts the copy's own threads: the watch that ends it with the process that
    asked for it, and the idle-time garbage collector (moto_process.py)."""
    import werkzeug.serving
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    # The original's listening socket, so that a copy can close it (run_simple calls make_server).
    original_make_server = werkzeug.serving.make_server

    def make_server(*args, **kwargs):  # type: ignore[no-untyped-def]
        global _LISTENER
        server = original_make_server(*args, **kwargs)
        if _LISTENER is None and threading.current_thread() is threading.main_thread():
            _LISTENER = server
        return server

    werkzeug.serving.make_server = make_server
    # Forked copies exit on their own; nobody waits for them, so let the kernel reap them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)

    original = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") == "/_sundown/fork" and environ.get("REQUEST_METHOD") == "POST":
            return _fork(self, lock, exit_with_parent, environ, start_response)
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
