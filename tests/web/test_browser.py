"""End to end in a real headless Chromium (Debian's chromium + chromium-driver, through selenium):
a township reviewer asks for a login link in the chat, opens it, finds the overdue application
in 待办, takes the 乡镇审核 step, and the villager's status reply in the chat shows it.

Screenshots go to $CONSOLE_SCREENSHOTS (or the test's tmp folder); their paths are printed.
Skipped, saying why, only where no Chromium or driver can be found.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from channels.server import start_server
from tests.web.conftest import Site, overdue_audit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no Chromium/chromedriver: apt-get install -y chromium chromium-driver")


class LiveServer:
    """The console on a real port, served from its own thread and event loop."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner, self.port = self.loop.run_until_complete(start_server([self.site.console], self.site.metrics, "127.0.0.1", 0))
        self.ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def driver() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900", "--lang=zh-CN"):
        options.add_argument(arg)
    chrome = webdriver.Chrome(service=Service(DRIVER), options=options)
    chrome.implicitly_wait(5)
    yield chrome
    chrome.quit()


def wait_for_title(driver, part: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: part in d.title, f"the page titled …{part}… did not come")


def shot(driver, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def test_log_in_find_the_overdue_application_take_the_step_and_see_it_in_chat(site: Site, driver, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        site.move(site.submit(f"fresh{i}", name=f"新户{i}"), "走访", "评议", "上报")
    late = overdue_audit(site, name="李四")
    site.world.say("villager", "你好")
    server = LiveServer(site)
    try:
        monkeypatch.setenv("CONSOLE_BASE_URL", f"http://127.0.0.1:{server.port}/console/")
        reply = site.world.say("township", "后台登录")
        link = next(word for word in reply.split() if word.startswith("http"))

        driver.get(link)
        shot(driver, folder, "1-login")
        driver.find_element(By.ID, "login").click()
        wait_for_title(driver, "待办")  # a click does not wait for the page it leads to
        shot(driver, folder, "2-todo")
        first = driver.find_element(By.CSS_SELECTOR, "table.list tbody tr")
        assert "overdue-row" in first.get_attribute("class") and "超期" in first.text and late in first.text
        first.find_element(By.CSS_SELECTOR, "a.app").click()
        wait_for_title(driver, late)
        page = driver.find_element(By.TAG_NAME, "main").text
        assert "138****5678" in page and "13812345678" not in page
        shot(driver, folder, "3-application")
        form = driver.find_element(By.CSS_SELECTOR, "form.step")
        form.find_element(By.NAME, "note").send_keys("已入户核查，情况属实，建议纳入监测")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        assert "已办理：乡镇核查完成，报县研判" in driver.find_element(By.ID, "done").text
        shot(driver, folder, "4-step-taken")

        base = f"http://127.0.0.1:{server.port}/console/"
        driver.get(base + "report?month=2026-11")
        wait_for_title(driver, "月报")
        assert late in driver.find_element(By.TAG_NAME, "main").text  # verified this month by the step just taken
        shot(driver, folder, "6-report")
        href = driver.find_element(By.ID, "xlsx").get_attribute("href")
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
        with urllib.request.urlopen(urllib.request.Request(href, headers={"Cookie": cookies}), timeout=10) as response:
            book = load_workbook(io.BytesIO(response.read()))
        assert late in [row[1] for row in book["待确认户类型"].iter_rows(values_only=True)]
        driver.get(base + "stats")
        wait_for_title(driver, "统计")
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        shot(driver, folder, "7-stats")
        driver.get(base + "policy")
        wait_for_title(driver, "政策库")
        driver.find_element(By.NAME, "household").send_keys("我家3口人，我50岁务农，儿子14岁读初中住校")
        driver.find_element(By.CSS_SELECTOR, "#trial button[type=submit]").click()
        assert "★必须落实" in driver.find_element(By.ID, "result").text
        shot(driver, folder, "8-policy-trial")

        driver.set_window_size(390, 844)  # a phone
        driver.get(base + "todo")
        shot(driver, folder, "5-todo-phone")
    finally:
        server.stop()

    assert site.store.get_application(late).state == "county_decision"
    status = site.world.say("villager", "我的申请到哪一步了")
    assert "县级研判中" in status and "乡镇核查完成，报县研判" in status
