"""0016 — the cases still running (table case_open, one row per case not yet ended) and the last case
number given each year (table case_counter), so #待办, #案件 and the reminders read the open cases only,
and a new case number reads one row instead of counting the year's cases (issue 19). Both are built
here from what the log and the case index already hold: case_open from the cases without a 结案 or
撤案 entry, case_counter from the number of cases opened each year (what numbering counted before, so
the next number is the one the old code would have given). Self-contained on purpose."""
from peewee import CharField, IntegerField, Model

ENDINGS = ("结案", "撤案")


def up(migrator, db):
    class CaseOpen(Model):
        number = CharField(primary_key=True)

        class Meta:
            database = db
            table_name = "case_open"

    class CaseCounter(Model):
        year = IntegerField(primary_key=True)
        last = IntegerField()

        class Meta:
            database = db
            table_name = "case_counter"

    db.create_tables([CaseOpen, CaseCounter])
    p = db.param
    db.execute_sql(
        "INSERT INTO case_open (number) SELECT c.number FROM enforcement_case c WHERE NOT EXISTS ("
        f"SELECT 1 FROM ledger_entry e WHERE e.case_no = c.number AND e.kind = 'step' AND e.step IN ({p}, {p})) "
        "AND NOT EXISTS (SELECT 1 FROM case_open o WHERE o.number = c.number)", ENDINGS)
    db.execute_sql(
        "INSERT INTO case_counter (year, last) SELECT CAST(SUBSTR(opened_on, 1, 4) AS INTEGER), COUNT(*) "
        "FROM enforcement_case c WHERE NOT EXISTS (SELECT 1 FROM case_counter k "
        "WHERE k.year = CAST(SUBSTR(c.opened_on, 1, 4) AS INTEGER)) GROUP BY CAST(SUBSTR(opened_on, 1, 4) AS INTEGER)")


def down(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS case_open")
    db.execute_sql("DROP TABLE IF EXISTS case_counter")
