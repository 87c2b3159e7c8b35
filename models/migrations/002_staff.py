"""002 — one staff list for every area: `complaint_staff` becomes `staff`, and a member of staff may be
registered before their WeChat is linked (openid may be empty), e.g. a 法制审核员 who records reviews
from the command line under their 执法证."""
import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.rename_table("complaint_staff", "staff")
    migrator.drop_not_null("staff", "openid")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_not_null("staff", "openid")
    migrator.rename_table("staff", "complaint_staff")
