"""Upload times as indexes write them, read as aware UTC times, and read only when asked."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kiln.core.dist import DistFile
from kiln.core.upload_times import parse_upload_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2021-05-05T14:18:17.237677Z",
            datetime(2021, 5, 5, 14, 18, 17, 237677, tzinfo=timezone.utc),
        ),
        ("2021-05-05T14:18:18.379Z", datetime(2021, 5, 5, 14, 18, 18, 379000, tzinfo=timezone.utc)),
        ("2024-12-04T17:35:26+00:00", datetime(2024, 12, 4, 17, 35, 26, tzinfo=timezone.utc)),
        ("2024-12-04T19:35:26+02:00", datetime(2024, 12, 4, 17, 35, 26, tzinfo=timezone.utc)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("yesterday", None),
    ],
)
def test_upload_times_parse_as_utc(text: str, expected: datetime | None) -> None:
    assert parse_upload_time(text) == expected


def test_a_file_keeps_the_text_and_parses_it_when_its_time_is_read() -> None:
    file = DistFile("a-1.0-py3-none-any.whl", "https://x/a", uploaded="2024-12-04T19:35:26+02:00")
    assert file.uploaded == "2024-12-04T19:35:26+02:00"
    assert file.upload_time == datetime(2024, 12, 4, 17, 35, 26, tzinfo=timezone.utc)
    assert DistFile("a-1.0.tar.gz", "https://x/a", uploaded="soon").upload_time is None
    assert DistFile("a-1.0.tar.gz", "https://x/a").upload_time is None
