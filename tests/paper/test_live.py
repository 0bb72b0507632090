"""The live clock with the faked HTTP layer of the download tests."""

from __future__ import annotations

import pytest

from engine.errors import DownloadError
from tests.market._fake_yahoo import BARS, FakeYahoo, yfinance_sandbox  # noqa: F401


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")
def test_refresh_downloads_then_steps_and_a_failure_changes_nothing(yfinance_sandbox):  # noqa: F811
    from engine.market import download, load_dataset
    from engine.paper import BookSettings, add_sleeve, book_status, create_book, refresh

    download("FAKE", end="2024-01-03", session=FakeYahoo())  # two bars stored so far
    create_book("live", BookSettings(cash=1000))
    add_sleeve("live", "s", "strategy", ["FAKE"], {"strategy": "rsi"})
    with pytest.raises(DownloadError, match="check the network connection"):
        refresh("live", session=FakeYahoo(fail=True))
    assert book_status("live")["clock"] is None  # nothing stepped
    out = refresh("live", session=FakeYahoo())
    stored = load_dataset("FAKE")
    # the fake serves 5 bars; the 4th is broken (high < close) and rejected on import
    assert stored.height == len(BARS) - 1
    assert out["downloaded"] == [{"symbol": "FAKE", "rows": stored.height}]
    assert out["books"][0]["bars"] == stored.height
    assert book_status("live")["clock"] == "2024-01-08T00:00:00"
    again = refresh("live", session=FakeYahoo())
    assert again["books"][0]["bars"] == 0  # no new bars: nothing processed twice
