"""The store, civility's one database layer: SQLAlchemy 2 models and Alembic migrations for
sites, threads, comments, scores, decisions, the audit log, users, calibration feedback, and
the HTTP server's API keys, stored comments and request buckets (``SqlStorage``). SQLite by
default, PostgreSQL by URL; one ``StoreError``; datetimes aware UTC.

A site's labelled examples and adapters (``record_examples``, ``retrain``, ``site_scorer``...)
are kept here too (docs/adapters.md).
"""

from civility.store._adapters import (
    AdapterInfo,
    LabelledText,
    Retrainer,
    adapt_settings,
    adapters,
    maybe_retrain,
    record_examples,
    refresh_adapters,
    retrain,
    rollback,
    site_examples,
    site_scorer,
    text_key,
)
from civility.store._api import ApiKey, ApiStorage, FeedbackPair, SqlStorage, hash_key
from civility.store._feedback import FeedbackImport, import_feedback, read_feedback
from civility.store._importer import (
    ImportResult,
    comment_key,
    import_file,
    import_thread,
    thread_key,
)
from civility.store._queue import (
    ACTIONS,
    Item,
    Overturns,
    Preview,
    QueueFilters,
    ThreadView,
    audit_log,
    decide,
    get_site,
    item,
    missed,
    overturns,
    preview_policy,
    queue,
    set_site_policy,
    sites,
    thread,
    threads,
)
from civility.store._store import Store, StoreError, audit
from civility.store._teach import items, teach_candidates
from civility.store._users import (
    ROLES,
    Account,
    authenticate,
    create_user,
    get_user,
    list_users,
    update_user,
)

__all__ = [
    "ACTIONS",
    "ROLES",
    "Account",
    "AdapterInfo",
    "ApiKey",
    "ApiStorage",
    "FeedbackImport",
    "FeedbackPair",
    "ImportResult",
    "Item",
    "LabelledText",
    "Overturns",
    "Preview",
    "QueueFilters",
    "Retrainer",
    "SqlStorage",
    "Store",
    "StoreError",
    "ThreadView",
    "adapt_settings",
    "adapters",
    "audit",
    "audit_log",
    "authenticate",
    "comment_key",
    "create_user",
    "decide",
    "get_site",
    "get_user",
    "hash_key",
    "import_feedback",
    "import_file",
    "import_thread",
    "item",
    "items",
    "list_users",
    "maybe_retrain",
    "missed",
    "overturns",
    "preview_policy",
    "queue",
    "read_feedback",
    "record_examples",
    "refresh_adapters",
    "retrain",
    "rollback",
    "set_site_policy",
    "site_examples",
    "site_scorer",
    "sites",
    "teach_candidates",
    "text_key",
    "thread",
    "thread_key",
    "threads",
    "update_user",
]
