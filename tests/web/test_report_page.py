"""月报 page: 附件1/2/3 for the month, XLSX and CSV downloads masked like the chat export, zero report."""

from __future__ import annotations

import asyncio
import io

from openpyxl import load_workbook

from tests.web.conftest import overdue_audit, signed_in


def test_xlsx_has_one_sheet_per_form_with_masked_numbers(site) -> None:
    async def scenario() -> None:
        number = overdue_audit(site)
        site.move(number, "审核", who="township")
        async with signed_in(site, "township") as staff:
            status, page = await staff.get("/console/report?month=2026-11")
            assert status == 200 and number in page and "13812345678" not in page
            response = await staff.client.get("/console/report.xlsx?month=2026-11")
            assert response.status == 200
            book = load_workbook(io.BytesIO(await response.read()))
        assert book.sheetnames == ["附件1 返贫预警", "附件2 致贫预警", "待确认户类型", "附件3 预警解除"]
        sheet = book["待确认户类型"]  # the application form does not record whether it is a 脱贫户
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][:3] == ("序号", "申请号", "村")
        row = rows[2]
        assert row[1] == number and "13812345678" not in row and "530123199001011234" not in row
        assert row[4].startswith("138") and "*" in row[4]

    asyncio.run(scenario())


def test_zero_report_and_csv(site) -> None:
    async def scenario() -> None:
        async with signed_in(site, "township") as staff:
            status, page = await staff.get("/console/report?month=2026-10")
            assert status == 200 and "零报告" in page
            response = await staff.client.get("/console/report.xlsx?month=2026-10")
            book = load_workbook(io.BytesIO(await response.read()))
            assert list(book["附件1 返贫预警"].iter_rows(values_only=True))[2][0].endswith("零报告。")
            response = await staff.client.get("/console/report.csv?month=2026-10")
            assert response.status == 200 and "零报告" in await response.text()

    asyncio.run(scenario())
