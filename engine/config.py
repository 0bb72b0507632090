"""One Settings object, read from environment variables.

=====================  =====================================  ==================================
variable               default                                meaning
=====================  =====================================  ==================================
STRATLAB_DATA_DIR      ``data/`` beside ``engine/``            runtime state: database, imported
                                                               datasets, models
DATABASE_URL           ``sqlite:///<STRATLAB_DATA_DIR>/lab.db`` any SQLAlchemy URL (PostgreSQL too)
STRATLAB_SAMPLES_DIR   ``data/samples/`` beside ``engine/``    the bundled sample datasets
=====================  =====================================  ==================================

Settings are cached; tests (and anything that changes the environment at run time) call
:func:`reset_settings` afterwards.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything configurable about the lab, validated once."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        validation_alias=AliasChoices("STRATLAB_DATA_DIR", "data_dir"),
    )
    samples_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "samples",
        validation_alias=AliasChoices("STRATLAB_SAMPLES_DIR", "samples_dir"),
    )
    database_url_override: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )

    @property
    def database_url(self) -> str:
        """``DATABASE_URL`` if set, else an SQLite file inside the data directory."""
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{(self.data_dir / 'lab.db').as_posix()}"

    @property
    def datasets_dir(self) -> Path:
        """Where imported and downloaded datasets are stored (one Parquet file each)."""
        return self.data_dir / "datasets"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read from the environment on first call)."""
    return Settings()


def reset_settings() -> None:
    """Forget cached settings so the next :func:`get_settings` re-reads the environment."""
    get_settings.cache_clear()
