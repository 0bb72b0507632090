"""Streamlit-side helpers for the pages: Plotly figure builders (:mod:`ui.charts`),
shared page components (:mod:`ui.components`) and session state (:mod:`ui.state`).

Nothing here computes what the engine should: the builders only turn engine output
(frames, trade lists, sweep records) into figures. :mod:`ui.charts` does not import
streamlit, so it can be tested on its own.
"""
