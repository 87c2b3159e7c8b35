"""0010 — complaints indexed by status: #待办, the reminder pass and Open311's open/closed lists select the
open ones, which stay few while the closed ones pile up over the years (issue 19)."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("complaint", ("status",), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("complaint", "complaint_status"))
