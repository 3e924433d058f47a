"""How transport failures and unusable answers read in messages: short, and credential-free.

Free of urllib3 at import time, so the index layer can use it without paying for urllib3.
"""

from __future__ import annotations

from http import HTTPStatus

from kiln.core.errors import NetworkError
from kiln.net.redact import redact_url

UNREACHABLE_HINT = "check the index URL and your network, or pass --offline to use only the cache"
CREDENTIALS_HINT = (
    "the index needs credentials: put them in the index URL, in "
    "KILN_INDEX_<NAME>_USERNAME / KILN_INDEX_<NAME>_PASSWORD, or in ~/.netrc"
)


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def status_hint(status: int) -> str:
    if status in (401, 403):
        return CREDENTIALS_HINT
    if status in (404, 410):
        return "the index lists a file it does not serve; run with --refresh or report it"
    return UNREACHABLE_HINT


def status_error(url: str, status: int) -> NetworkError:
    """The error for an answer a caller cannot use (401, 403, 4xx other than not-found)."""
    return NetworkError(
        f"failed to fetch `{redact_url(url)}`",
        causes=(status_text(status),),
        hint=status_hint(status),
    )


def certificate_refused(error: BaseException) -> bool:
    """Whether a TLS failure is the server's certificate failing verification (untrusted,
    expired, for another host): the one TLS failure no retry can mend."""
    import ssl

    seen: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        candidate = pending.pop()
        if not isinstance(candidate, BaseException) or candidate in seen:
            continue
        if isinstance(candidate, ssl.SSLCertVerificationError):
            return True
        seen.append(candidate)
        pending.extend([*candidate.args, candidate.__cause__, candidate.__context__])
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def describe(error: BaseException) -> str:
    """A short, credential-free account of a transport failure."""
    from urllib3.exceptions import (
        ConnectTimeoutError,
        NameResolutionError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
        SSLError,
    )

    if isinstance(error, NameResolutionError):
        return "could not resolve the host name"
    # urllib3 makes NewConnectionError a ConnectTimeoutError: test the narrower one first.
    if isinstance(error, NewConnectionError):
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(error).lower():
            return "connection refused"
        return "could not connect"
    if isinstance(error, ConnectTimeoutError):
        return "connection timed out"
    if isinstance(error, (ReadTimeoutError, TimeoutError)):
        return "timed out waiting for the server"
    if isinstance(error, SSLError):
        return f"tls error: {error.args[0] if error.args else error}"
    if isinstance(error, ProtocolError):
        return "the connection broke off"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return type(error).__name__
