"""Excel files of the item list, read and written with openpyxl."""
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from models.catalogue import ITEM_COLUMNS, ImportRefused, RowError, export_rows


def read_item_rows(path):
    """Yield (row_number, dict) for each non-empty row under the header of the first sheet."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportRefused([RowError(1, f"无法读取Excel文件（{exc.__class__.__name__}），请使用 .xlsx 格式")])
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, [])]
    fields = _map_header(header)
    result = []
    for number, cells in enumerate(rows, start=2):
        values = {field: _cell_text(cells[i]) for i, field in fields.items() if i < len(cells)}
        if any(values.values()):
            result.append((number, values))
    workbook.close()
    return result


def _map_header(header):
    by_label = {label: field for field, label in ITEM_COLUMNS}
    missing = [label for _, label in ITEM_COLUMNS if label not in header]
    if missing:
        raise ImportRefused([RowError(1, f"表头缺少列：{'、'.join(missing)}（可先导出一份作为模板）")])
    return {i: by_label[label] for i, label in enumerate(header) if label in by_label}


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def write_items(path):
    """Write the current item list to `path`; returns the number of items written."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "行政执法事项清单"
    sheet.append([label for _, label in ITEM_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = export_rows()
    for row in rows:
        sheet.append(row)
    for column, width in zip("ABCDEFGHI", (10, 36, 12, 30, 18, 22, 30, 60, 24)):
        sheet.column_dimensions[column].width = width
    workbook.save(path)
    return len(rows)
