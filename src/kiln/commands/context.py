"""The small explicit context a command runs with: settings, cache, reporter, HTTP client."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cache.layout import Cache, default_cache_dir
from kiln.core.protocols import Reporter, SilentReporter
from kiln.core.records import field, record
from kiln.settings.global_settings import GlobalSettings

if TYPE_CHECKING:
    from kiln.net.client import HttpClient


def open_cache(settings: GlobalSettings) -> Cache:
    if settings.no_cache:
        root = Path(tempfile.mkdtemp(prefix="kiln-cache-"))
        atexit.register(shutil.rmtree, root, True)
        return Cache(root, temporary=True, wheel_size_limit=settings.wheel_size_limit)
    return Cache(
        settings.cache_dir or default_cache_dir(), wheel_size_limit=settings.wheel_size_limit
    )


@record(frozen=False)
class CommandContext:
    """The settings, cache, reporter and HTTP client one command runs with."""

    settings: GlobalSettings
    cache: Cache
    reporter: Reporter = field(default_factory=SilentReporter)
    # Where `-v` sends its lines (the CLI's console); None: nowhere.
    log: Callable[[str], None] | None = None
    _client: HttpClient | None = None

    @classmethod
    def create(
        cls,
        settings: GlobalSettings,
        reporter: Reporter | None = None,
        log: Callable[[str], None] | None = None,
    ) -> CommandContext:
        return cls(settings, open_cache(settings), reporter or SilentReporter(), log)

    @property
    def client(self) -> HttpClient:
        # urllib3 and ssl cost ~70 ms to import: only commands that talk to indexes pay it.
        if self._client is None:
            from kiln.net.client import HttpClient

            self._client = HttpClient(
                offline=self.settings.offline,
                cache=self.cache,
                log=self.log if self.settings.verbose > 0 else None,
            )
        return self._client
