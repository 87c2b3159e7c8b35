"""0002 — one staff list for every area: `complaint_staff` becomes `staff`, and a member of staff may be
registered before their WeChat is linked (openid may be empty), e.g. a 法制审核员 who records reviews
from the command line under their 执法证."""


def up(migrator, db):
    migrator.migrate(migrator.rename_table("complaint_staff", "staff"),
                     migrator.drop_not_null("staff", "openid"))


def down(migrator, db):
    migrator.migrate(migrator.add_not_null("staff", "openid"),
                     migrator.rename_table("staff", "complaint_staff"))
