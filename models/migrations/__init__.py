"""Versioned schema migrations (peewee's own playhouse.migrations): `NNNN_name.py` files here, each with
`up(migrator, db)`, applied in order, each once, in its own transaction (on SQLite with foreign-key
actions off, so rebuilding a table never cascades into the rows that point at it). What was applied
is recorded in the `schema_migration` table.

`python bot.py migrate` applies pending ones; `bot.py serve` (make run) and `init-db` do too. A schema
change is a new file here — never an edit of an applied one, and never a table dropped because a
column is missing. `python bot.py migrate --new NAME` writes one from the difference between the
models and the database (review it: a rename shows as a drop and an add).
"""
import logging
from pathlib import Path

from playhouse.migrations import Runner, template
from playhouse.schema_diff import diff_models

from models.database import db

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent


def runner():
    return Runner(db.obj, str(MIGRATIONS_DIR))


def pending():
    """Names of the migrations this database has not had yet, in order."""
    return [m.name for m in runner().status() if m.applied is None and m.path is not None]


def applied():
    return [m.name for m in runner().status() if m.applied is not None]


def upgrade():
    """Apply every pending migration; return their names."""
    done = runner().up()
    for name in done:
        log.info("applied migration %s", name)
    return done


def create(name):
    """Write a new migration from what the models have and the database lacks; its path, or None
    when the database already matches the models."""
    from models import ALL_MODELS

    diff = diff_models(db.obj, ALL_MODELS)
    return runner().create(name, body=template(diff)) if diff else None
