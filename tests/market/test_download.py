"""download(): yfinance driven through a fake HTTP session — never the real network."""

from __future__ import annotations

import sys
from datetime import datetime

import pytest

requests = pytest.importorskip("requests")
yf = pytest.importorskip("yfinance")

from engine.errors import DataError, DatasetNotFound, DownloadError  # noqa: E402
from engine.market import download, get_dataset_info, import_file, load_dataset  # noqa: E402
from tests.market._canon import assert_canonical  # noqa: E402
from tests.market._fake_yahoo import FakeYahoo, yfinance_sandbox  # noqa: E402,F401

pytestmark = [
    # yfinance itself trips over newer pandas deprecations; not our concern here.
    pytest.mark.filterwarnings("ignore:The inplace keyword:Warning"),
    # Every test runs inside the imported yfinance_sandbox fixture.
    pytest.mark.usefixtures("yfinance_sandbox"),
]


def test_download_validates_and_stores_like_an_import():
    s = FakeYahoo()
    rep = download("fake", session=s)
    assert any("/v8/finance/chart/FAKE" in u for u in s.urls)
    assert rep.symbol == "FAKE" and rep.source_rows == 5 and rep.rows == 4
    assert rep.rejected_by_reason == {"high < max(open, close)": 1}
    info = get_dataset_info("FAKE")
    assert info.source == "download" and not info.synthetic and "Yahoo" in info.description
    df = load_dataset("FAKE")
    assert_canonical(df)
    # Daily bars keep the exchange's calendar date at midnight.
    assert df["timestamp"].to_list()[:2] == [datetime(2024, 1, 2), datetime(2024, 1, 3)]
    assert df["close"].to_list() == [10.5, 11.0, 10.2, 11.1]


def test_window_is_inclusive_and_download_refreshes_a_download():
    download("FAKE", session=FakeYahoo())
    rep = download("FAKE", start="2024-01-03", end="2024-01-04", session=FakeYahoo())
    assert rep.rows == 2
    assert load_dataset("FAKE")["timestamp"].to_list() == [
        datetime(2024, 1, 3), datetime(2024, 1, 4)
    ]


def test_download_does_not_replace_an_import_without_overwrite(tmp_path, goog):
    p = tmp_path / "g.csv"
    goog.write_csv(p)
    import_file(p, "FAKE")
    with pytest.raises(DataError, match="--overwrite"):
        download("FAKE", session=FakeYahoo())
    assert download("FAKE", session=FakeYahoo(), overwrite=True).rows == 4


def test_network_failure_says_so():
    with pytest.raises(DownloadError, match=r"could not download FAKE.*ConnectionError.*network"):
        download("FAKE", session=FakeYahoo(fail=True))
    with pytest.raises(DatasetNotFound):  # nothing was stored
        get_dataset_info("FAKE")


def test_empty_answer_blames_the_symbol_or_dates():
    with pytest.raises(DownloadError, match=r"returned no bars for NOPE.*check the symbol"):
        download("NOPE", session=FakeYahoo(bars=[]))


def test_missing_yfinance_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import raises ImportError
    with pytest.raises(DownloadError,
                       match=r"yfinance is not installed: pip install 'strategy-lab\[download\]'"):
        download("AAPL")


def test_bad_interval():
    with pytest.raises(DownloadError, match="interval"):
        download("AAPL", interval="7q")
