"""Tables for the screen: missing values read as "—", never as Python's ``None``.

st.dataframe draws a null cell as the word "None"; an analyst reads that as a bug (or as a
value). :func:`readable` turns the columns that have gaps into text with a dash for the gap,
numbers formatted to the given decimals; columns without gaps stay numbers (sortable).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

MISSING = "—"


def _text(value: object, digits: int | None) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and digits is not None:
        return f"{value:,.{digits}f}"
    return str(value)


def readable(df: pl.DataFrame, digits: Mapping[str, int] | None = None,
             default_digits: int = 2) -> pl.DataFrame:
    """``df`` with every column that holds a null (or NaN) as text, the gap as "—".

    ``digits`` gives the decimals of a float column by name (``default_digits`` otherwise).
    """
    digits = digits or {}
    out = []
    for name in df.columns:
        s = df[name]
        gaps = s.null_count() > 0 or (s.dtype.is_float() and bool(s.is_nan().any()))
        if not gaps:
            out.append(s)
            continue
        d = digits.get(name, default_digits)
        out.append(pl.Series(name, [_text(v, d) for v in s.to_list()], dtype=pl.String))
    return pl.DataFrame(out) if out else df
