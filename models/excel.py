"""Excel files of the published lists (items, officers), read and written with openpyxl.

Each list names its columns as (field, 中文表头) pairs; the sheet's header row is matched by those
labels, so staff may reorder columns, and errors name the spreadsheet row they see.
"""
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from models.catalogue import ITEM_COLUMNS, ImportRefused, RowError, export_rows


def cell_text(value, field=None):
    """A cell as trimmed text; whole numbers typed into Excel lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(path, columns, required=None, cell=cell_text):
    """(row_number, dict) for each non-empty row under the header of the first sheet.

    Raises ImportRefused if the file is not a readable .xlsx or a required column is missing.
    """
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportRefused([RowError(1, f"无法读取Excel文件（{exc.__class__.__name__}），请使用 .xlsx 格式")])
    if not workbook.worksheets:
        workbook.close()
        raise ImportRefused([RowError(1, "Excel文件里没有工作表，请使用导出的模板填写")])
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    try:
        header = [str(c).strip() if c is not None else "" for c in next(rows, [])]
        required = [field for field, _ in columns] if required is None else required
        missing = [label for field, label in columns if field in required and label not in header]
        if missing:
            raise ImportRefused([RowError(1, f"表头缺少列：{'、'.join(missing)}（可先导出一份作为模板）")])
        by_label = {label: field for field, label in columns}
        fields = {i: by_label[label] for i, label in enumerate(header) if label in by_label}
        result = []
        for number, cells in enumerate(rows, start=2):
            values = {field: cell(cells[i], field) for i, field in fields.items() if i < len(cells)}
            if any(values.values()):
                result.append((number, values))
        return result
    finally:
        # A read-only sheet's row generator holds the file open until it is closed itself: left to
        # the garbage collector (a refused header stops it early), it closed the file at a random later
        # moment, with a ResourceWarning in whatever ran then.
        rows.close()
        workbook.close()


def write_rows(path, title, columns, rows, widths=()):
    """Write a header row of `columns`' labels and then `rows`; returns the number of rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append([label for _, label in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, width in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", widths):
        sheet.column_dimensions[column].width = width
    workbook.save(path)
    return len(rows)


def read_item_rows(path):
    return read_rows(path, ITEM_COLUMNS)


def write_items(path):
    """Write the current item list to `path`; returns the number of items written."""
    return write_rows(path, "行政执法事项清单", ITEM_COLUMNS, export_rows(), (10, 36, 12, 30, 18, 22, 30, 60, 24))
