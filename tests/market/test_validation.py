"""validate_frame / read_file: every rejection counted and explained, gaps, timeframes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from engine.errors import DataError
from engine.market import ImportReport, read_file, validate_frame
from engine.market.validation import MAX_EXAMPLES, MAX_GAPS
from tests.market._canon import assert_canonical


def bars(dates, o=None, h=None, lo=None, c=None, v=None, ts="timestamp") -> pl.DataFrame:
    n = len(dates)
    return pl.DataFrame({
        ts: dates,
        "open": o or [10.0] * n,
        "high": h or [11.0] * n,
        "low": lo or [9.0] * n,
        "close": c or [10.5] * n,
        "volume": v or [100.0] * n,
    }, strict=False)


def test_goog_passes_untouched_without_gaps(goog):
    out, rep = validate_frame(goog, symbol="GOOG")
    assert out.equals(goog)
    assert_canonical(out)
    assert (rep.rows, rep.rejected, rep.duplicates, rep.n_gaps) == (goog.height, 0, 0, 0)
    assert rep.timeframe == "1d"
    assert rep.start == datetime(2004, 8, 19) and rep.end == datetime(2013, 3, 1)


def test_mixed_case_and_alias_columns_are_recognised():
    raw = pl.DataFrame({"DATE": ["2024-01-02", "2024-01-03"], "Open": ["1", "2"],
                        "HIGH": ["2", "3"], "Low": ["0.5", "1"], "cLoSe": ["1.5", "2.5"],
                        "Adj Close": ["9", "9"], "Vol": ["10", "20"], "extra": ["x", "y"]})
    out, rep = validate_frame(raw)
    assert_canonical(out)
    assert out["close"].to_list() == [1.5, 2.5]  # adj close ignored
    assert out["volume"].to_list() == [10.0, 20.0]
    assert rep.rejected == 0


def test_missing_required_column_is_fatal_and_names_it():
    raw = pl.DataFrame({"date": ["2024-01-02"], "open": [1.0], "high": [1.0], "close": [1.0]})
    with pytest.raises(DataError, match=r"missing required column\(s\) low.*header"):
        validate_frame(raw)


def test_missing_volume_is_filled_with_zero_and_warned():
    raw = pl.DataFrame({"date": ["2024-01-02"], "open": [1.0], "high": [1.0], "low": [1.0],
                        "close": [1.0]})
    out, rep = validate_frame(raw)
    assert out["volume"].to_list() == [0.0]
    assert any("volume" in w for w in rep.warnings)


def test_each_bad_row_is_counted_with_its_reason_and_row_number():
    raw = pl.DataFrame({
        "date": ["2024-01-02", "2024-01-03", "nonsense", "2024-01-05", "2024-01-08",
                 "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12", "2024-01-16", ""],
        "open": ["10", "10", "10", "abc", "NaN", "0", "10", "10", "10", "10", "10"],
        "high": ["11", "11", "11", "11", "11", "11", "9", "11", "11", "11", "11"],
        "low": ["9", "9", "9", "9", "9", "-1", "8", "10.6", "9", "9", "9"],
        "close": ["10.5", "10.5", "10.5", "10.5", "10.5", "10.5", "8.5", "10.5", "", "inf", "1"],
        "volume": ["1", "-5", "1", "1", "1", "1", "1", "1", "1", "1", "1"],
    })
    out, rep = validate_frame(raw, symbol="BAD")
    assert out.height == 1 and rep.rows == 1
    assert rep.rejected == 10 and rep.source_rows == 11
    assert rep.rejected_by_reason == {
        "volume < 0": 1, "unparseable timestamp": 1, "non-numeric open": 1,
        "NaN/inf in open": 1, "price <= 0": 1, "high < max(open, close)": 1,
        "low > min(open, close)": 1, "missing close": 1, "NaN/inf in close": 1,
        "missing timestamp": 1,
    }
    assert [(e["row"], e["reason"]) for e in rep.examples][:4] == [
        (2, "volume < 0"), (3, "unparseable timestamp"), (4, "non-numeric open"),
        (5, "NaN/inf in open")]
    assert rep.examples[1]["values"]["timestamp"] == "nonsense"
    assert sum(rep.rejected_by_reason.values()) == rep.rejected
    json.dumps(rep.to_dict())  # JSON-safe


def test_nulls_in_numeric_columns_are_rejected_as_missing():
    raw = bars([date(2024, 1, 2), date(2024, 1, 3)], c=[10.5, None])
    out, rep = validate_frame(raw)
    assert out.height == 1 and rep.rejected_by_reason == {"missing close": 1}


def test_duplicates_keep_the_first_occurrence_and_are_counted():
    raw = bars(["2024-01-03", "2024-01-02", "2024-01-03", "2024-01-03"],
               c=[10.1, 10.2, 10.3, 10.4])
    out, rep = validate_frame(raw)
    assert out["timestamp"].to_list() == [datetime(2024, 1, 2), datetime(2024, 1, 3)]
    assert out["close"].to_list() == [10.2, 10.1]
    assert rep.duplicates == 2 and rep.rejected_by_reason == {"duplicate timestamp": 2}
    assert [e["row"] for e in rep.examples] == [3, 4]


def test_an_invalid_first_copy_does_not_hide_a_valid_duplicate():
    raw = bars(["2024-01-02", "2024-01-02"], c=[-1.0, 10.5])
    out, rep = validate_frame(raw)
    assert out["close"].to_list() == [10.5]
    assert rep.rejected_by_reason == {"price <= 0": 1} and rep.duplicates == 0


def test_unsorted_input_is_sorted():
    raw = bars(["2024-01-05", "2024-01-02", "2024-01-04", "2024-01-03"], c=[4.0, 1.0, 3.0, 2.0],
               lo=[0.5] * 4)
    out, rep = validate_frame(raw)
    assert_canonical(out)
    assert out["close"].to_list() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(("values", "unit"), [
    ([1704153600, 1704240000], "s"), ([1704153600000, 1704240000000], "ms"),
    ([1704153600000000, 1704240000000000], "us"), ([1704153600.0, 1704240000.0], "s float"),
    (["1704153600", "1704240000"], "s as text"),
])
def test_epoch_timestamps_in_any_unit(values, unit):
    out, _ = validate_frame(bars(values))
    assert out["timestamp"].to_list() == [datetime(2024, 1, 2), datetime(2024, 1, 3)], unit


@pytest.mark.parametrize("values", [
    ["2024-01-02T15:30:00+02:00", "2024-01-02T16:30:00+02:00"],
    ["2024-01-02T13:30:00Z", "2024-01-02T14:30:00Z"],
    ["2024-01-02 13:30:00", "2024-01-02 14:30"],
    ["2024-01-02T13:30:00.000", "2024-01-02T14:30:00.000"],
])
def test_iso_strings_with_offsets_become_naive_utc(values):
    out, rep = validate_frame(bars(values))
    assert out["timestamp"].to_list() == [
        datetime(2024, 1, 2, 13, 30), datetime(2024, 1, 2, 14, 30)
    ]
    assert rep.timeframe == "1h"


def test_tz_aware_datetime_column_is_converted_to_utc():
    ts = pl.Series(
        [datetime(2024, 1, 2, 9, 30), datetime(2024, 1, 2, 10, 30)]
    ).dt.replace_time_zone("America/New_York")
    out, _ = validate_frame(bars(ts))
    assert out.schema["timestamp"] == pl.Datetime("us")
    assert out["timestamp"].to_list() == [
        datetime(2024, 1, 2, 14, 30), datetime(2024, 1, 2, 15, 30)
    ]


@pytest.mark.parametrize(("values", "expected"), [
    ([date(2024, 1, 2), date(2024, 1, 3)], [datetime(2024, 1, 2), datetime(2024, 1, 3)]),
    (["2024/01/02", "2024/01/03"], [datetime(2024, 1, 2), datetime(2024, 1, 3)]),
    (["20240102", "20240103"], [datetime(2024, 1, 2), datetime(2024, 1, 3)]),
    ([20240102, 20240103], [datetime(2024, 1, 2), datetime(2024, 1, 3)]),
    (["12/31/2023", "01/02/2024"], [datetime(2023, 12, 31), datetime(2024, 1, 2)]),
    (["31/12/2023", "02/01/2024"], [datetime(2023, 12, 31), datetime(2024, 1, 2)]),
])
def test_date_formats(values, expected):
    out, _ = validate_frame(bars(values))
    assert out["timestamp"].to_list() == expected


def test_zero_valid_rows_is_fatal_with_the_reasons():
    raw = bars(["2024-01-02", "2024-01-03"], c=[-1.0, 0.0])
    with pytest.raises(DataError, match=r"no valid rows.*all 2 rows.*price <= 0: 2"):
        validate_frame(raw, symbol="X")


def test_empty_frame_is_fatal():
    with pytest.raises(DataError, match="no rows"):
        validate_frame(bars([]))


def test_weekends_and_holidays_are_not_gaps_but_missing_weeks_are():
    # Business days of Jan 2024 without MLK day (15th, a holiday) and without 22–26 (a gap).
    days = pl.date_range(date(2024, 1, 2), date(2024, 2, 2), eager=True)
    days = days.filter((days.dt.weekday() <= 5) & (days != date(2024, 1, 15))
                       & ~days.is_between(date(2024, 1, 22), date(2024, 1, 26)))
    out, rep = validate_frame(bars(days))
    assert rep.timeframe == "1d"
    assert rep.n_gaps == 1 and rep.missing_bars == 5
    assert rep.gaps == [{"after": datetime(2024, 1, 19), "before": datetime(2024, 1, 29),
                         "missing_bars": 5}]


def test_crypto_daily_expects_every_day():
    days = pl.date_range(date(2024, 1, 1), date(2024, 1, 31), eager=True)
    days = days.filter(days != date(2024, 1, 10))
    _, rep = validate_frame(bars(days))
    assert rep.n_gaps == 1 and rep.gaps[0]["missing_bars"] == 1


def test_intraday_gaps_count_inside_a_session_only():
    day1 = pl.datetime_range(datetime(2024, 1, 2, 14, 30), datetime(2024, 1, 2, 20, 30),
                             "1h", eager=True)
    day2 = pl.datetime_range(datetime(2024, 1, 3, 14, 30), datetime(2024, 1, 3, 20, 30),
                             "1h", eager=True)
    ts = pl.concat([day1, day2.filter(day2.dt.hour() != 17)])
    _, rep = validate_frame(bars(ts))
    assert rep.timeframe == "1h"
    assert rep.n_gaps == 1 and rep.gaps[0]["after"] == datetime(2024, 1, 3, 16, 30)


def test_gap_list_is_capped_but_counted():
    days = pl.date_range(date(2000, 1, 3), date(2010, 1, 1), "1w", eager=True)  # Mondays
    keep = days.filter(pl.arange(0, days.len(), eager=True) % 4 != 1)  # drop every 4th week
    _, rep = validate_frame(bars(keep))
    assert rep.timeframe == "1w"
    assert rep.n_gaps > MAX_GAPS and len(rep.gaps) == MAX_GAPS
    assert rep.missing_bars == rep.n_gaps


@pytest.mark.parametrize(("end", "step", "label"), [
    (datetime(2022, 6, 1), "1mo", "1mo"), (datetime(2020, 1, 1, 0, 29), "1m", "1m"),
    (datetime(2020, 1, 8), "4h", "4h"), (datetime(2020, 1, 1, 3), "5m", "5m"),
    (datetime(2020, 12, 28), "1w", "1w"), (datetime(2030, 1, 1), "3mo", "3mo"),
])
def test_timeframe_inference(end, step, label):
    ts = pl.datetime_range(datetime(2020, 1, 1), end, step, eager=True)
    _, rep = validate_frame(bars(ts))
    assert rep.timeframe == label
    assert rep.n_gaps == 0


def test_examples_are_capped():
    raw = bars([f"2024-01-{d:02d}" for d in range(1, 31)], c=[-1.0] * 29 + [10.5])
    _, rep = validate_frame(raw)
    assert rep.rejected == 29 and len(rep.examples) == MAX_EXAMPLES


def test_report_round_trips_through_dict():
    _, rep = validate_frame(bars(["2024-01-02", "2024-01-03"]), symbol="S")
    again = ImportReport.from_dict(json.loads(json.dumps(rep.to_dict())))
    assert again == rep


def test_read_file_csv_and_parquet(tmp_path, goog):
    csv = tmp_path / "g.csv"
    goog.write_csv(csv)
    pq = tmp_path / "g.parquet"
    goog.write_parquet(pq)
    a, _ = validate_frame(read_file(csv))
    b, _ = validate_frame(read_file(pq))
    assert a.equals(goog) and b.equals(goog)


def test_read_file_errors(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_file(tmp_path / "nope.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DataError, match=r"unsupported file type \.json.*\.csv or \.parquet"):
        read_file(tmp_path / "x.json")
    (tmp_path / "bad.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match="cannot read bad.parquet.*valid Parquet"):
        read_file(tmp_path / "bad.parquet")


def test_malformed_csv_without_a_header_is_a_missing_column_error(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1,2,0.5,1.5,10\n")
    with pytest.raises(DataError, match="missing required column"):
        validate_frame(read_file(p))


def test_thousands_separators_and_whitespace_in_numbers():
    raw = pl.DataFrame({"date": [" 2024-01-02 "], "open": [" 1,000.5 "], "high": ["1,001"],
                        "low": ["999"], "close": ["1000"], "volume": ["1,234,567"]})
    out, _ = validate_frame(raw)
    assert out.row(0)[1:] == (1000.5, 1001.0, 999.0, 1000.0, 1234567.0)


def test_naive_datetimes_with_utc_wrap_stay_unchanged():
    ts = [datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)]
    out, _ = validate_frame(bars(ts))
    assert out["timestamp"].to_list() == [datetime(2024, 1, 2), datetime(2024, 1, 3)]


# ------------------------------------------------------- never guessed silently (issue 9)

def _daily(n: int) -> list[datetime]:
    return [datetime(2024, 1, 1) + (datetime(2024, 1, 2) - datetime(2024, 1, 1)) * i
            for i in range(n)]


def test_decimal_commas_are_refused_naming_the_rows():
    # before: "1,5" had its comma stripped as a thousands separator and was stored as 15.0
    raw = pl.DataFrame({"date": ["2024-01-02", "2024-01-03", "2024-01-04"],
                        "open": ["1.0", "1,5", "1,25"], "high": ["2", "2", "2"],
                        "low": ["1", "1", "1"], "close": ["1.5", "1.5", "1,000"],
                        "volume": ["1", "1", "1"]})
    with pytest.raises(DataError, match=r"decimal comma in open \(rows 2, 3; e\.g\. open "
                                        r"'1,5' in row 2\).*write decimals with a point"):
        validate_frame(raw)


def test_thousands_separators_alone_are_not_decimal_commas():
    raw = pl.DataFrame({"date": ["2024-01-02"], "open": ["$1,000"], "high": ["-1,234,567.5"],
                        "low": ["999"], "close": ["1,000."], "volume": ["12,345"]})
    # -1,234,567.5 is parsed (and rejected as a price <= 0 later), never refused as a comma
    with pytest.raises(DataError, match="price <= 0"):
        validate_frame(raw)


def test_slash_dates_in_both_orders_are_refused():
    days = _daily(30)
    # 20 rows day/month, 10 rows month/day: before, whichever parsed more won and the
    # other rows with both numbers <= 12 were silently read with day and month swapped
    ds = [d.strftime("%d/%m/%Y") for d in days[:20]] + [d.strftime("%m/%d/%Y") for d in days[20:]]
    with pytest.raises(DataError, match=r"mix month/day/year \(rows 21, 22, 23, 24, 25 and 5 "
                                        r"more, e\.g\. '01/21/2024'\) and day/month/year "
                                        r"\(rows 13, .*e\.g\. '13/01/2024'\).*YYYY-MM-DD"):
        validate_frame(bars(ds))


def test_one_slash_order_still_parses():
    days = _daily(30)
    out, rep = validate_frame(bars([d.strftime("%d/%m/%Y") for d in days]))
    assert out["timestamp"].to_list() == days and rep.rejected == 0


@pytest.mark.parametrize("as_text", [False, True])
def test_epoch_seconds_mixed_with_milliseconds_are_refused(as_text):
    days = _daily(30)
    secs = [int(d.replace(tzinfo=UTC).timestamp()) for d in days]
    # before: the median's unit (ms) was used for all, rows 1-5 were dated January 1970
    mixed = [s if i < 5 else s * 1000 for i, s in enumerate(secs)]
    values = [str(v) for v in mixed] if as_text else mixed
    with pytest.raises(DataError, match=r"mix units: milliseconds in rows 6, 7, 8, 9, 10 and "
                                        r"20 more \(e\.g\. 1704499200000\); seconds in rows 1, "
                                        r"2, 3, 4, 5 \(e\.g\. 1704067200\).*one unit"):
        validate_frame(bars(values))


@pytest.mark.parametrize("scale", [1e306, 1e-306])
def test_prices_outside_the_documented_range_are_rejected(scale):
    from engine.market.validation import PRICE_MAX, PRICE_MIN

    assert (PRICE_MIN, PRICE_MAX) == (1e-6, 1e9)
    n = 5
    raw = bars(_daily(n), o=[10 * scale] * n, h=[11 * scale] * n, lo=[9 * scale] * n,
               c=[10.5 * scale] * n)
    with pytest.raises(DataError, match=r"price outside \[1e-06, 1e\+09\]: 5.*prices must lie "
                                        r"between 1e-06 and 1e\+09: rescale"):
        validate_frame(raw)


def test_a_row_outside_the_price_range_is_rejected_and_counted():
    raw = bars(_daily(3), h=[11.0, 2e9, 11.0])
    out, rep = validate_frame(raw)
    assert out.height == 2
    assert rep.rejected_by_reason == {"price outside [1e-06, 1e+09]": 1}
    assert rep.examples[0]["row"] == 2
