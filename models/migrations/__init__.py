"""Versioned schema migrations (peewee-migrate): `NNN_name.py` files here, applied in order, each once,
in its own transaction; what was applied is recorded in the `migratehistory` table.

`python bot.py migrate` applies pending ones; `bot.py serve` (make run) and `init-db` do too. A new
schema change is a new file here — never an edit of an applied one, and never a table dropped
because a column is missing. `python bot.py migrate --new NAME` writes the file from the difference
between the models and what the migrations build.
"""
import logging
from pathlib import Path

from peewee_migrate import Router

from models.database import db

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent


def router():
    return Router(db.obj, migrate_dir=MIGRATIONS_DIR, logger=log)


def pending():
    """Names of the migrations this database has not had yet."""
    return router().diff


def upgrade():
    """Apply every pending migration; return their names."""
    return router().run()


def create(name):
    """Write a new migration from what the models have and the applied migrations lack; its name, or
    None when nothing differs. Review it before committing: renames show as a drop and an add."""
    from models import ALL_MODELS

    return router().create(name, auto=ALL_MODELS)
