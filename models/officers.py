"""执法人员名册 maintenance: add officers, give them a photo, and import/export the roster as Excel.

The Excel import follows the item list's rule (models/catalogue.py): every row is checked first,
then all rows are written or none, and errors name the spreadsheet row. Officers missing from the
file stay as they are (their history and badges must not vanish with a row). A status change
coming from the file is recorded in the status history like one made from the command line.
"""
import datetime as dt
import secrets

from PIL import Image, ImageOps, UnidentifiedImageError

from models.badges import BadgeError, photo_dir, set_status
from models.database import db
from models.catalogue import RowError, duplicate_errors, refuse_unless_valid
from models.disclosure import OFFICER_STATUSES, Officer
from models.excel import cell_text, read_rows, write_rows

OFFICER_COLUMNS = [
    ("name", "姓名"),
    ("cert_no", "执法证号"),
    ("issuer", "发证机关"),
    ("fields", "执法领域"),
    ("valid_from", "有效期起"),
    ("valid_to", "有效期止"),
    ("status", "状态"),
    ("status_reason", "状态变更原因"),
    ("status_changed_on", "状态变更日期"),
]
REQUIRED = ("name", "cert_no", "issuer", "fields", "valid_from", "valid_to")
DATE_FIELDS = ("valid_from", "valid_to", "status_changed_on")
MAX_LENGTH = 255
IMPORT_WHO = "Excel导入"
PHOTO_MAX_PX = 800


def parse_date(value):
    """A date from an Excel cell: a date/datetime, or text such as 2027-02-28, 2027/2/28, 2027.02.28."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip().replace("/", "-").replace(".", "-")
    for suffix in ("年", "月"):
        text = text.replace(suffix, "-")
    return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.rstrip("日").split("-")))


def validate_officer(row, number, labels=dict(OFFICER_COLUMNS)):
    """RowErrors of one officer row (a dict of OFFICER_COLUMNS fields); dates are parsed in place."""
    errors = [RowError(number, f"“{labels[f]}”不能为空") for f in REQUIRED if not row.get(f)]
    for field, label in OFFICER_COLUMNS:
        if field not in DATE_FIELDS and len(str(row.get(field) or "")) > MAX_LENGTH:
            errors.append(RowError(number, f"“{label}”超过{MAX_LENGTH}字"))
    for field in DATE_FIELDS:
        if row.get(field):
            try:
                row[field] = parse_date(row[field])
            except ValueError:
                errors.append(RowError(number, f"“{labels[field]}”不是有效日期（应如 2027-02-28）"))
                row[field] = None
    if isinstance(row.get("valid_from"), dt.date) and isinstance(row.get("valid_to"), dt.date) \
            and row["valid_from"] > row["valid_to"]:
        errors.append(RowError(number, "有效期起晚于有效期止"))
    status = row.get("status") or "有效"
    if status not in OFFICER_STATUSES:
        errors.append(RowError(number, f"状态“{status}”无效，应为：{'、'.join(OFFICER_STATUSES)}"))
    elif status != "有效" and not row.get("status_reason"):
        errors.append(RowError(number, f"状态为“{status}”时须填写状态变更原因"))
    return errors


def validate_officer_rows(rows):
    errors = [error for number, row in rows for error in validate_officer(row, number)]
    return errors + duplicate_errors(rows, "cert_no", "执法证号")


def import_officers(rows, today=None):
    """Import (row_number, dict) pairs, all or nothing; returns (created, updated, status_changes)."""
    rows = list(rows)
    refuse_unless_valid(rows, validate_officer_rows(rows), "表格中没有执法人员")
    created = updated = changes = 0
    today = today or dt.date.today()
    with db.atomic():
        for _, row in rows:
            status = row.get("status") or "有效"
            values = {f: row.get(f) for f in ("name", "cert_no", "issuer", "fields", "valid_from", "valid_to")}
            officer = Officer.by_cert_no(values["cert_no"])
            if officer is None:
                changed_on = row.get("status_changed_on") or (today if status != "有效" else None)
                Officer.create(**values, status=status, status_reason=row.get("status_reason") or "",
                               status_changed_on=changed_on)
                created += 1
                continue
            Officer.update(**values).where(Officer.id == officer.id).execute()
            updated += 1
            if status != officer.status:
                reason = row.get("status_reason") or "Excel导入恢复有效"
                set_status(officer, status, reason, IMPORT_WHO, row.get("status_changed_on") or today)
                changes += 1
    return created, updated, changes


def add_officer(**values):
    """Add one officer from the command line, with the same checks as an Excel row."""
    values = {k: v for k, v in values.items() if v not in (None, "")}
    errors = validate_officer(values, 1)
    if Officer.by_cert_no(values.get("cert_no")):
        errors.append(RowError(1, f"执法证号“{values['cert_no']}”已存在"))
    if errors:
        raise BadgeError("；".join(e.reason for e in errors))
    return Officer.create(**values)


def set_photo(officer, source, config):
    """Store a copy of the image at `source` (turned upright, at most 800 px, JPEG) as the officer's photo."""
    try:
        with Image.open(source) as image:
            photo = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, UnidentifiedImageError):
        raise BadgeError(f"无法读取照片“{source}”，请使用 JPG 或 PNG 图片")
    photo.thumbnail((PHOTO_MAX_PX, PHOTO_MAX_PX))
    folder = photo_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    # A random file name: the photo is served only through a valid badge token, never by certificate number.
    name = f"{secrets.token_hex(12)}.jpg"
    photo.save(folder / name, "JPEG", quality=90)
    old = folder / officer.photo if officer.photo else None
    Officer.update(photo=name).where(Officer.id == officer.id).execute()
    officer.photo = name
    if old and old.is_file():
        old.unlink()
    return officer


# -- Excel ------------------------------------------------------------------------------------------------

def read_officer_rows(path):
    """(row_number, dict) for each non-empty row under the header of the first sheet."""
    return read_rows(path, OFFICER_COLUMNS, REQUIRED, cell=_cell)


def _cell(value, field):
    if field in DATE_FIELDS and isinstance(value, (dt.date, dt.datetime)):
        return value
    return cell_text(value)


def write_officers(path):
    """Write the roster to `path`; returns the number of officers written."""
    rows = [[_export(getattr(officer, field)) for field, _ in OFFICER_COLUMNS] for officer in Officer.search("")]
    return write_rows(path, "执法人员名册", OFFICER_COLUMNS, rows, (10, 16, 24, 28, 12, 12, 8, 30, 14))


def _export(value):
    # Dates as ISO text: they read back the same in any spreadsheet locale.
    return value.isoformat() if isinstance(value, dt.date) else (value or "")
