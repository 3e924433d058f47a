"""The TLS trust store, which can be loaded ahead on a thread of its own.

Loading the system's store took 40-50 ms here, with the GIL released: a command that will
fetch starts it before importing the rest of itself (`preload`), and its first request finds
it loaded instead of waiting for it after the imports.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import ssl

_lock = threading.Lock()
# What one preload was started for (`key`), its thread, and the list it loads into.
_preloaded: dict[str, object] = {}


def _key(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    return env.get("SSL_CERT_FILE") or None, env.get("SSL_CERT_DIR") or None


def ssl_context(env: Mapping[str, str]) -> ssl.SSLContext:
    """SSL_CERT_FILE / SSL_CERT_DIR when set (corporate CAs), else the system's store."""
    # Imported here, with the rest of the store's work on the loading thread: the main
    # thread of a verb that preloads has its own modules to import meanwhile.
    import ssl

    cafile, capath = _key(env)
    if cafile is not None and not os.path.isfile(cafile):
        cafile = None
    if capath is not None and not os.path.isdir(capath):
        capath = None
    if cafile is None and capath is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=cafile, capath=capath)


def preload(env: Mapping[str, str] | None = None) -> None:
    """Start loading the context `take` will hand out for ``env`` (the process's own by
    default); once per process."""
    env = dict(os.environ if env is None else env)
    with _lock:
        if _preloaded:
            return
        loaded: list[ssl.SSLContext | BaseException] = []

        def load() -> None:
            try:
                loaded.append(ssl_context(env))
            except BaseException as exc:  # raised to whoever takes it
                loaded.append(exc)

        thread = threading.Thread(target=load, name="kiln-trust", daemon=True)
        try:
            thread.start()
        except RuntimeError:
            return  # no thread to be had: `take` loads its own
        _preloaded.update(key=_key(env), thread=thread, loaded=loaded)


def take(env: Mapping[str, str]) -> ssl.SSLContext:
    """A context for ``env``: the preloaded one for the first caller it fits (each transport
    changes its context's settings, so no two share one), else a new one."""
    with _lock:
        preloaded = dict(_preloaded) if _preloaded.get("key") == _key(env) else None
        if preloaded is not None:
            _preloaded["key"] = None  # taken
    if preloaded is None:
        return ssl_context(env)
    thread = preloaded["thread"]
    assert isinstance(thread, threading.Thread)
    thread.join()
    loaded = cast("list[ssl.SSLContext | BaseException]", preloaded["loaded"])
    result = loaded[0]
    if isinstance(result, BaseException):
        raise result
    return result
