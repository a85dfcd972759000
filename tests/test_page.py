"""The page at / driven in headless Chromium (Debian's chromium + chromium-driver) through selenium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from server.settings import Settings
from tests.conftest import TINY
from tests.serving import live_server, tiny_index

CHROMIUM = os.environ.get("QUARRY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("QUARRY_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")

# Skipped only where Chromium is absent, and never in CI (.ci/run installs it): there it must run.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()) and not os.environ.get("CI"),
    reason=f"needs Chromium at {CHROMIUM} and chromedriver at {CHROMEDRIVER} "
           "(Debian: apt-get install chromium chromium-driver; .ci/run installs them)")]


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=1100,1400", f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def ask(driver, question: str):
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ask").click()


def test_page_highlights_the_answer_and_cites_passages(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    with live_server(Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx"))) as url:
        browser.get(url + "/")
        wait.until(EC.text_to_be_present_in_element((By.ID, "corpus"), "4 documents"))

        ask(browser, "How long do cats sleep?")
        mark = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#answer mark.answer")))
        assert mark.text == "Cats sleep for sixteen hours a day."
        # highlighted inside its passage: the passage's whole text around the mark
        passage = browser.find_element(By.ID, "answer-passage").text
        assert passage.strip() == TINY["animals/cats.txt"].strip()
        assert browser.find_element(By.CSS_SELECTOR, "#answer-cite code.cite").text == "animals/cats.txt:1"
        cites = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#passage-list code.cite")]
        assert cites[0] == "animals/cats.txt:1-2" and len(cites) == 4  # k = 5 over a 4-chunk index
        assert browser.find_element(By.ID, "no-answer").is_displayed() is False

        # expand the first passage's citation: the passage inside its document's text
        first = browser.find_element(By.CSS_SELECTOR, "#passage-list li details summary")
        first.click()
        ctx = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#passage-list li .context .in-passage")))
        assert ctx.text.strip() == TINY["animals/cats.txt"].strip()
        assert ctx.find_element(By.CSS_SELECTOR, "mark.answer").text == "Cats sleep for sixteen hours a day."
        browser.save_screenshot(str(tmp_path / "answer.png"))
        if os.environ.get("QUARRY_SCREENSHOTS"):
            browser.save_screenshot(os.path.join(os.environ["QUARRY_SCREENSHOTS"], "page-answer.png"))

        # a question the documents do not answer: said plainly, closest passages still listed
        ask(browser, "Who painted the Mona Lisa?")
        wait.until(EC.visibility_of_element_located((By.ID, "no-answer")))
        assert "do not answer" in browser.find_element(By.ID, "no-answer").text
        assert browser.find_element(By.ID, "answer").is_displayed() is False
        assert browser.find_element(By.ID, "passages-title").text == "Closest passages, for reference"
        assert browser.find_elements(By.CSS_SELECTOR, "#passage-list mark") == []

        # a blank question is refused before it is sent
        ask(browser, "   ")
        wait.until(EC.visibility_of_element_located((By.ID, "error")))
        assert browser.find_element(By.ID, "error").text == "Type a question first."


def test_page_asks_for_the_api_key(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    settings = Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx"), api_key="s3cret")
    with live_server(settings) as url:
        browser.get(url + "/")
        ask(browser, "How many moons does Mars have?")
        wait.until(EC.visibility_of_element_located((By.ID, "key-box")))
        assert "API key" in browser.find_element(By.ID, "error").text
        browser.find_element(By.ID, "api-key").send_keys("s3cret")
        browser.find_element(By.ID, "key-save").click()
        mark = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#answer mark.answer")))
        assert mark.text == "Mars has two moons, Phobos and Deimos."
