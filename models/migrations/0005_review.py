"""0005 — 重大执法决定法制审核: a 法制审核员's 法律职业资格 (certificate number) and since when they review,
so the rule of 《行政处罚法》第五十八条第二款 (first-time reviewers hold the qualification) can be kept.
The review itself lives in the append-only case file (ledger_entry), which needs no schema change."""
from peewee import CharField, DateField


def up(migrator, db):
    migrator.migrate(migrator.add_column("staff", "legal_qualification", CharField(null=True)),
                     migrator.add_column("staff", "reviewing_since", DateField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("staff", "legal_qualification"),
                     migrator.drop_column("staff", "reviewing_since"))
