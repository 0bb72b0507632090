"""A fake Yahoo Finance HTTP layer: a requests.Session that yfinance accepts as ``session=``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

BARS = [  # (day, open, high, low, close, volume); the 4th bar is broken (high < close)
    ((2024, 1, 2), 10.0, 11.0, 9.0, 10.5, 1000),
    ((2024, 1, 3), 10.5, 12.0, 10.0, 11.0, 2000),
    ((2024, 1, 4), 11.0, 11.5, 10.0, 10.2, 1500),
    ((2024, 1, 5), 10.2, 10.0, 9.5, 10.8, 1200),
    ((2024, 1, 8), 10.8, 11.2, 10.1, 11.1, 900),
]


class FakeYahoo(requests.Session):
    """A requests.Session answering Yahoo's chart API from memory (the HTTP seam yfinance
    accepts as ``session=``). ``fail`` raises a connection error on every request."""

    def __init__(self, bars=BARS, *, fail: bool = False, status: int = 200):
        super().__init__()
        self.bars, self.fail, self.status, self.urls = bars, fail, status, []

    def request(self, method, url, params=None, **kwargs):
        self.urls.append(url)
        if self.fail:
            raise requests.ConnectionError("Failed to resolve query2.finance.yahoo.com")
        r = requests.Response()
        r.url, r.status_code, r._content = url, 200, b""
        if "getcrumb" in url:
            r._content = b"fake-crumb"
        elif "/v8/finance/chart/" in url:
            r.status_code = self.status
            r._content = json.dumps(self._chart(url.rsplit("/", 1)[-1], params or {})).encode()
        return r

    def _chart(self, symbol, params):
        lo, hi = int(params.get("period1", 0)), int(params.get("period2", 2**40))
        rows = [b for b in self.bars
                if lo <= datetime(*b[0], 14, 30, tzinfo=UTC).timestamp() < hi]
        ts = [int(datetime(*b[0], 14, 30, tzinfo=UTC).timestamp()) for b in rows]
        quote = {k: [b[i + 1] for b in rows]
                 for i, k in enumerate(["open", "high", "low", "close", "volume"])}
        meta = {"currency": "USD", "symbol": symbol, "exchangeName": "NMS",
                "instrumentType": "EQUITY",
                "exchangeTimezoneName": "America/New_York", "timezone": "EST", "gmtoffset": -18000,
                "dataGranularity": "1d", "priceHint": 2, "range": "",
                "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y",
                                "ytd", "max"]}
        result = {"meta": meta, "timestamp": ts,
                  "indicators": {"quote": [quote], "adjclose": [{"adjclose": quote["close"]}]}}
        return {"chart": {"result": [result], "error": None}}


@pytest.fixture
def yfinance_sandbox(tmp_path_factory):
    """Keep yfinance's cookie/time-zone caches out of the user's home; forget the fake session."""
    import yfinance as yf
    from yfinance.data import YfData

    yf.set_tz_cache_location(str(tmp_path_factory.getbasetemp() / "yfinance-cache"))
    yield
    YfData._instances.pop(YfData, None)  # the singleton would otherwise keep the fake session
