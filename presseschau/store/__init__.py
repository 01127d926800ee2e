"""Storage: SQLAlchemy models, sessions and Alembic migrations."""

from presseschau.store.db import Database, DatabaseNotInitialized, migrate
from presseschau.store.models import (
    Article,
    ArticleRevision,
    Base,
    MemoryEntry,
    Publication,
    ServiceState,
    SlugHistory,
    Source,
    Translation,
)

__all__ = [
    "Article",
    "ArticleRevision",
    "Base",
    "Database",
    "DatabaseNotInitialized",
    "MemoryEntry",
    "Publication",
    "ServiceState",
    "SlugHistory",
    "Source",
    "Translation",
    "migrate",
]
