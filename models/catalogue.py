"""《行政执法事项清单》 maintenance: validate every row first, then import all of them or none."""
from dataclasses import dataclass

from models import laws
from models.database import db
from models.disclosure import ENFORCEMENT_CATEGORIES, EnforcementItem

# Column order of the spreadsheet staff keep, with the Chinese header they see.
ITEM_COLUMNS = [
    ("code", "事项编码"),
    ("name", "事项名称"),
    ("category", "执法行为类别"),
    ("basis_law", "设定依据（法律法规名称）"),
    ("basis_article", "条款"),
    ("acting_body", "实施主体"),
    ("responsible_body", "责任主体"),
    ("penalty", "处罚种类和幅度"),
    ("keywords", "检索关键词"),
]
REQUIRED = ("code", "name", "category", "basis_law", "basis_article", "acting_body", "responsible_body")
MAX_LENGTH = 255


@dataclass
class RowError:
    row: int  # spreadsheet row number as staff see it
    reason: str

    def __str__(self):
        return f"第{self.row}行：{self.reason}"


class ImportRefused(Exception):
    """Raised with every bad row when an import is refused; nothing was written."""

    def __init__(self, errors):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def validate_item_rows(rows):
    """Check (row_number, dict) pairs; return the list of RowError (empty when all are good)."""
    errors = []
    for number, row in rows:
        labels = dict(ITEM_COLUMNS)
        for field in REQUIRED:
            if not row.get(field):
                errors.append(RowError(number, f"“{labels[field]}”不能为空"))
        for field, label in ITEM_COLUMNS:
            if field != "penalty" and len(row.get(field) or "") > MAX_LENGTH:
                errors.append(RowError(number, f"“{label}”超过{MAX_LENGTH}字"))
        category = row.get("category")
        if category and category not in ENFORCEMENT_CATEGORIES:
            errors.append(RowError(number, f"执法行为类别“{category}”无效，应为：{'、'.join(ENFORCEMENT_CATEGORIES)}"))
        errors += basis_errors(number, row)
    return errors + duplicate_errors(rows, "code", "事项编码")


def basis_errors(number, row):
    """The item's basis must be a current law of the catalogue (models/laws.py) and a provision of it."""
    law, article = (row.get("basis_law") or "").strip().strip("《》"), (row.get("basis_article") or "").strip()
    if not law or not article:
        return []
    if laws.find(law) is None:
        return [RowError(number, f"设定依据《{law}》不在本局法律法规目录中（data/laws.yaml）或已废止，"
                                 "请核对法规全称；新法规请先加入目录")]
    if not laws.provisions_valid(article):
        return [RowError(number, f"条款“{article}”应写成 第X条、第X条第X款 或 第X条第（X）项")]
    return []


def refuse_unless_valid(rows, errors, empty_reason):
    """Raise ImportRefused with every error (and `empty_reason` for a sheet without rows)."""
    if not rows:
        errors = errors + [RowError(2, empty_reason)]
    if errors:
        raise ImportRefused(errors)


def duplicate_errors(rows, field, label):
    """A RowError for every row repeating an earlier row's `field` (the key an import updates by)."""
    errors, seen = [], {}
    for number, row in rows:
        value = row.get(field)
        if value and value in seen:
            errors.append(RowError(number, f"{label}“{value}”与第{seen[value]}行重复"))
        elif value:
            seen[value] = number
    return errors


def import_items(rows, replace=False):
    """Import (row_number, dict) pairs into the item list, all or nothing.

    Existing items are updated by code; with `replace`, items absent from the rows are removed,
    so the list equals the spreadsheet. Returns (created, updated, removed) counts.
    """
    rows = list(rows)
    refuse_unless_valid(rows, validate_item_rows(rows), "表格中没有事项")
    created = updated = 0
    with db.atomic():
        for _, row in rows:
            values = {field: (row.get(field) or "") for field, _ in ITEM_COLUMNS}
            existing = EnforcementItem.get_or_none(EnforcementItem.code == values["code"])
            if existing is None:
                EnforcementItem.create(**values)
                created += 1
            else:
                EnforcementItem.update(**values).where(EnforcementItem.id == existing.id).execute()
                updated += 1
        removed = 0
        if replace:
            codes = [row["code"] for _, row in rows]
            removed = EnforcementItem.delete().where(EnforcementItem.code.not_in(codes)).execute()
    return created, updated, removed


def export_rows():
    """Every item as a list of cell values, in ITEM_COLUMNS order."""
    return [[getattr(item, field) for field, _ in ITEM_COLUMNS] for item in EnforcementItem.search("")]
