"""Progress on a terminal: one line for the resolution, replaced by download bars."""

from __future__ import annotations

from kiln.cli.progress import RichReporter


def test_resolving_is_one_line_that_downloads_replace() -> None:
    reporter = RichReporter()
    try:
        reporter.resolving("alpha", 1)
        reporter.resolving("beta", 2)
        progress = reporter._ensure()
        assert [t.description for t in progress.tasks] == ["Resolving 2 packages: beta"]
        reporter.download_started("k", "alpha==1.0", 10)
        assert [t.description for t in progress.tasks] == ["alpha==1.0"]
    finally:
        reporter.close()
