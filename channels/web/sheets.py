"""The 月报 forms as downloads: XLSX (openpyxl, one sheet per form, Chinese headers) and CSV."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from workflow.monthly_forms import Form

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(forms: list[Form], zero_note: str) -> bytes:
    """A title row, the header row, the rows; an empty form says it is a zero report."""
    book = Workbook()
    book.remove(book.active)
    for form in forms:
        sheet = book.create_sheet(form.sheet[:31])
        sheet.append([form.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(form.headers))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in form.rows:
            sheet.append(list(row))
        if not form.rows:
            sheet.append([zero_note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(forms: list[Form], zero_note: str) -> str:
    """All forms one after another, each under its title (UTF-8 with BOM, so Excel reads Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for form in forms:
        writer.writerow([form.title])
        writer.writerow(form.headers)
        writer.writerows(form.rows or [[zero_note]])
        writer.writerow([])
    return "\ufeff" + out.getvalue()
