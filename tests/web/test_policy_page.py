"""政策库: measures with ★/●, dated amounts with their source sentences, documents with validity;
试算 from a description or household YAML gives the chat's compact result; the form needs CSRF."""

from __future__ import annotations

import asyncio
import re

from tests.web.conftest import signed_in


def test_catalogue_marks_amounts_and_documents(site) -> None:
    async def scenario() -> None:
        async with signed_in(site, "township") as staff:
            status, page = await staff.get("/console/policy?region=boluo")
            assert status == 200 and "博罗县" in page
            assert "★ 必须落实" in page and "● 可以争取" in page
            assert re.search(r"\d{4}-\d{2}-\d{2} 起：[\d.]+元", page)  # a dated value with its unit
            assert "依据：《" in page and "已失效" in page  # 博罗's 2022 text is marked as expired by 2026

    asyncio.run(scenario())


def test_trial_from_a_description_and_from_yaml(site) -> None:
    description = "我家4口人，是监测户。我45岁务农，老婆在家种地，儿子14岁读初中住校，老父亲72岁有二级残疾证"
    household = "region: heqing\nstatuses: [监测对象]\nmembers:\n  - {relation: 户主, age: 45}\n  - {relation: 子女, age: 14, school_stage: 初中, boarding: true}\n"

    async def scenario() -> None:
        async with signed_in(site, "township") as staff:
            await staff.get("/console/policy")
            status, page = await staff.post("/console/policy", {"household": description})
            assert status == 200 and "★必须落实" in page and "鹤庆县" in page
            status, page = await staff.post("/console/policy", {"household": "家里情况: 3口人，我50岁务农，儿子14岁读初中住校"})
            assert status == 200 and "★必须落实" in page  # a colon in words is still a description, not YAML
            status, page = await staff.post("/console/policy", {"household": household})
            assert status == 200 and "★必须落实" in page
            status, page = await staff.post("/console/policy", {"household": "region: heqing\nmembers:\n  - {relation: 户主, age: -3}\n"})
            assert status == 200 and "&lt;试算&gt;:3" in page
            status, _ = await staff.post("/console/policy", {"household": description}, csrf="forged")
            assert status == 403 and site.refused("csrf") >= 1

    asyncio.run(scenario())
