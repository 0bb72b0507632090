"""The configuration reference, generated from the sections (``docs/configuration.md``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from engine.config.sections import SECTIONS, rule
from engine.config.settings import Settings, get_settings

_INTRO = """\
# Configuration

Every setting is an environment variable, read into `engine.config.Settings` — one section
per subsystem, each subsystem taking its own (`get_settings().neural.epochs`). This page is
generated from those models (`python -m engine config --markdown > docs/configuration.md`);
a test fails when the two differ. `python -m engine config` shows the values in force.

## One rule for numbers

The same rule checks environment variables, command-line flags, values typed on a page and
values saved in the database:

- a **whole number** takes digits only: `50` is accepted; `50.0`, `50.5`, `5e1` and `true`
  are refused;
- a **number** takes any finite decimal (`0.1`, `1e-3`, `50`); `nan` and `inf` are refused;
- an empty variable counts as unset: the default applies;
- a flag takes `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).

A bad value is refused with a message that names the variable, the rule and the fix, e.g.
`BATCH_SIZE=0 is not valid: must be a whole number from 1 to 65536; set BATCH_SIZE to a
whole number from 1 to 65536 (default 32) or unset it`. A section is read the first time
its subsystem needs it, so a bad training default stops training, not the whole app.

Precedence: an explicit flag, argument or page value overrides the environment default
(and passes the same rule); for the auto-retrain policy, values saved on the Auto-Retrain
page override the environment, which overrides the built-in default.
"""


def settings_table(section: str | None = None) -> list[dict[str, str]]:
    """One row per variable: name, section, default, rule and meaning."""
    rows = []
    for name, cls in SECTIONS.items():
        if section not in (None, name):
            continue
        for field, info in cls.model_fields.items():
            extra: dict[str, Any] = info.json_schema_extra  # type: ignore[assignment]
            rows.append({"variable": extra["env"], "section": name, "field": field,
                         "default": extra["shown"], "rule": rule(cls, field),
                         "meaning": info.description or ""})
    return rows


def settings_markdown() -> str:
    """``docs/configuration.md``: the intro, then one table per section."""
    out = [_INTRO]
    for name, cls in SECTIONS.items():
        out.append(f"\n## `{name}` — {cls.title}\n\n"
                   "| variable | default | accepts | meaning |\n|---|---|---|---|\n")
        for r in settings_table(name):
            default = r["default"] if r["default"].startswith("`") or r["default"] == "unset" \
                else f"`{r['default']}`"
            out.append(f"| `{r['variable']}` | {default} | {r['rule']} | {r['meaning']} |\n")
    return "".join(out)


def settings_values(settings: Settings | None = None) -> list[dict[str, Any]]:
    """The values in force, one row per variable (the API key only as ``set``/``unset``).

    Reading every section validates it: a bad value raises :class:`ConfigError` here.
    """
    settings = settings or get_settings()
    rows = []
    for row in settings_table():
        value = getattr(getattr(settings, row["section"]), row["field"])
        if isinstance(value, SecretStr):
            value = "set" if value.get_secret_value() else "unset"
        elif isinstance(value, Path):
            value = str(value)
        from_env = bool((os.environ.get(row["variable"]) or "").strip())
        rows.append({"variable": row["variable"], "section": row["section"],
                     "value": value, "source": "environment" if from_env else "default"})
    return rows
