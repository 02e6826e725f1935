"""How each speed-up of local/moto_speedups.py installs itself: over one attribute of moto (a module
function or a class's method), once per process, and not at all when this moto lacks it."""

import importlib

_MARK = "_sundown_bench"


def replaces(owner, name):  # type: ignore[no-untyped-def]
    """Turns `build(original)`, which returns what replaces `owner.name`, into its installer.

    `owner` is a module path, or "module:Class". The installer leaves moto alone when the attribute
    does not exist (another moto version: nothing to speed up), when a module `build` imports is
    missing, or when the attribute is already a speed-up (applying twice changes nothing). What
    `build` returns is marked as a speed-up; anything else `build` sets is guarded by that mark.
    """

    def decorate(build):  # type: ignore[no-untyped-def]
        def install() -> None:
            module_name, _, class_name = owner.partition(":")
            try:
                target = importlib.import_module(module_name)
                if class_name:
                    target = getattr(target, class_name)
                original = getattr(target, name)
            except (ImportError, AttributeError):
                return
            if getattr(original, _MARK, False):
                return
            try:
                replacement = build(original)
            except ImportError:
                return
            setattr(replacement, _MARK, True)
            setattr(target, name, replacement)

        install.__name__ = build.__name__
        install.__doc__ = build.__doc__
        return install

    return decorate
