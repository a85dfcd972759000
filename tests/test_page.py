"""The page at / driven in headless Chromium (Debian's chromium + chromium-driver) through selenium."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from server.settings import Settings
from tests.conftest import TINY
from tests.serving import fake_loader, live_server, tiny_index

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


def shoot(driver, tmp_path, name: str) -> None:
    """A screenshot in tmp_path, and in $QUARRY_SCREENSHOTS when set (to look at by eye)."""
    driver.save_screenshot(str(tmp_path / f"{name}.png"))
    if os.environ.get("QUARRY_SCREENSHOTS"):
        os.makedirs(os.environ["QUARRY_SCREENSHOTS"], exist_ok=True)
        driver.save_screenshot(os.path.join(os.environ["QUARRY_SCREENSHOTS"], f"page-{name}.png"))


def sure_loader(settings: Settings):
    """The fake-encoder retriever with every answer at or over the low-confidence threshold (the fake
    encoder's confidences follow the fitted scorer, not the text: "How long do cats sleep?" read 0.49 once)."""
    return fake_loader(settings).with_config(low_confidence=0.0)


def test_page_leads_with_the_answer_and_cites_passages(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    with live_server(Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx")), load=sure_loader) as url:
        browser.get(url + "/")
        wait.until(EC.text_to_be_present_in_element((By.ID, "corpus"), "4 documents"))

        ask(browser, "How long do cats sleep?")
        sentence = wait.until(EC.visibility_of_element_located((By.ID, "answer-sentence")))
        assert sentence.text == "Cats sleep for sixteen hours a day."
        assert browser.find_element(By.ID, "answer-cite").text == "animals/cats.txt:1"
        assert browser.find_element(By.ID, "answer-confidence").text.startswith("confidence 0.")
        assert browser.find_element(By.ID, "answer-flag").is_displayed() is False
        assert "low" not in browser.find_element(By.ID, "answer").get_attribute("class").split()
        # the passage holding it is the context below it, the sentence marked inside it
        context = browser.find_element(By.ID, "answer-context")
        assert context.text.strip() == TINY["animals/cats.txt"].strip()
        assert context.find_element(By.CSS_SELECTOR, "mark.answer").text == "Cats sleep for sixteen hours a day."
        assert browser.find_element(By.CSS_SELECTOR, "#answer-context-cite code.cite").text == "animals/cats.txt:1-2"
        # ... and is not repeated as passage 1: the other three passages follow (k = 5 over 4 chunks)
        cites = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#passage-list code.cite")]
        assert len(cites) == 3 and "animals/cats.txt:1-2" not in cites
        assert browser.find_element(By.ID, "passages-title").text == "Other passages"
        texts = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#passage-list .passage-text")]
        assert not any("Cats sleep" in t for t in texts)
        assert browser.find_element(By.ID, "no-answer").is_displayed() is False
        # each document's title beside its file name: its first heading (dogs.md), else a first line that
        # reads as a title (cats.txt's first line is a sentence: no title)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#passage-list .doc-title"))
        titled = {e.get_attribute("data-source"): e.text
                  for e in browser.find_elements(By.CSS_SELECTOR, "#passage-list .doc-title")}
        assert titled["animals/dogs.md"] == "Dogs"
        assert browser.find_element(By.ID, "answer-doc").text == ""
        # the question is in the address, to be shared
        assert browser.current_url == url + "/?q=How+long+do+cats+sleep%3F"

        # expand the context's citation: the passage inside its document's text
        browser.find_element(By.CSS_SELECTOR, "#answer-context-cite details summary").click()
        ctx = wait.until(EC.visibility_of_element_located(
            (By.CSS_SELECTOR, "#answer-context-cite .context .in-passage")))
        assert ctx.text.strip() == TINY["animals/cats.txt"].strip()
        assert ctx.find_element(By.CSS_SELECTOR, "mark.answer").text == "Cats sleep for sixteen hours a day."
        shoot(browser, tmp_path, "answer")

        # a question the documents do not answer: said plainly, closest passages still listed
        ask(browser, "Who painted the Mona Lisa?")
        wait.until(EC.visibility_of_element_located((By.ID, "no-answer")))
        assert "do not answer" in browser.find_element(By.ID, "no-answer").text
        assert browser.find_element(By.ID, "answer").is_displayed() is False
        assert browser.find_element(By.ID, "passages-title").text == "Closest passages, for reference"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#passage-list li")) == 4
        assert browser.find_elements(By.CSS_SELECTOR, "#passage-list mark") == []
        shoot(browser, tmp_path, "abstention")

        # a blank question is refused before it is sent
        ask(browser, "   ")
        wait.until(EC.visibility_of_element_located((By.ID, "error")))
        assert browser.find_element(By.ID, "error").text == "Type a question first."


def test_a_shared_link_asks_its_question(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    with live_server(Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx"))) as url:
        browser.get(url + "/?q=How+many+moons+does+Mars+have%3F&k=3")
        sentence = wait.until(EC.visibility_of_element_located((By.ID, "answer-sentence")))
        assert sentence.text == "Mars has two moons, Phobos and Deimos."
        assert browser.find_element(By.ID, "question").get_attribute("value") == "How many moons does Mars have?"
        assert browser.find_element(By.ID, "k").get_attribute("value") == "3"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#passage-list li")) == 2  # k = 3, one shown above
        # asking another question re-points the address; reloading it asks that one again
        ask(browser, "How long do cats sleep?")
        wait.until(EC.text_to_be_present_in_element((By.ID, "answer-sentence"), "Cats sleep"))
        assert browser.current_url == url + "/?q=How+long+do+cats+sleep%3F&k=3"
        browser.refresh()
        wait.until(EC.text_to_be_present_in_element((By.ID, "answer-sentence"), "Cats sleep"))
        assert browser.find_element(By.ID, "question").get_attribute("value") == "How long do cats sleep?"
        # a link whose question is HTML stays text: nothing of it is parsed
        browser.get(url + "/?q=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E")
        wait.until(EC.visibility_of_element_located((By.ID, "no-answer")))
        assert browser.find_element(By.ID, "question").get_attribute("value") == "<img src=x onerror=alert(1)>"
        assert browser.find_elements(By.CSS_SELECTOR, "main img") == []


def low_loader(settings: Settings):
    """The fake-encoder retriever with every answer under the low-confidence threshold."""
    return fake_loader(settings).with_config(low_confidence=1.0)


def test_a_low_confidence_answer_is_shown_as_such(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    with live_server(Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx")), load=low_loader) as url:
        browser.get(url + "/?q=How+long+do+cats+sleep%3F")
        flag = wait.until(EC.visibility_of_element_located((By.ID, "answer-flag")))
        score = browser.find_element(By.ID, "answer-confidence").text.removeprefix("low confidence ")
        assert flag.text.startswith(f"Low-confidence answer ({score}):")
        assert "low" in browser.find_element(By.ID, "answer").get_attribute("class").split()
        assert "low" in browser.find_element(By.ID, "answer-confidence").get_attribute("class").split()
        assert browser.find_element(By.ID, "answer-sentence").text == "Cats sleep for sixteen hours a day."
        # styled apart from a confident one: the sentence's edge takes the warning colour
        edge = browser.execute_script(
            "return getComputedStyle(document.getElementById('answer-sentence')).borderLeftColor")
        assert edge == "rgb(227, 155, 45)"
        shoot(browser, tmp_path, "low-confidence")


def test_copy_citation(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    with live_server(Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx"))) as url:
        browser.get(url + "/?q=How+long+do+cats+sleep%3F")
        button = wait.until(EC.visibility_of_element_located((By.ID, "copy-cite")))
        want = "“Cats sleep for sixteen hours a day.” (animals/cats.txt:1)"  # cats.txt has no title
        wait.until(lambda d: button.get_attribute("data-citation") == want)
        button.click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "copy-status"), "Cop"))
        status = browser.find_element(By.ID, "copy-status").text
        assert status in ("Copied", f"Copy this: {want}")
        if status == "Copied":  # it is on the clipboard: paste it into the question box
            from selenium.webdriver.common.keys import Keys

            box = browser.find_element(By.ID, "question")
            box.clear()
            box.send_keys(Keys.CONTROL, "v")
            assert box.get_attribute("value") == want


TABLE_DOC = ("# Model releases\n\nThe table lists releases by year.\n\n"
             "| Model | Year | Maker |\n|:---|---:|:---:|\n| Orca | 2021 | Oceanic Labs |\n"
             "| Heron <b>bold</b> | 2023 | Bird & Co |\n\nLater models are not listed.\n")


@contextmanager
def asked_with(browser, tiny_corpus, tmp_path, name: str, text: str, query: str, css: str):
    """The page asked ``query`` (URL-encoded) over the tiny corpus plus a file ``name`` holding ``text``; yields
    the first element matching ``css`` once it is visible."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    (tiny_corpus / name).write_text(text, encoding="utf-8")
    with live_server(Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx"))) as url:
        browser.get(f"{url}/?q={query}")
        yield WebDriverWait(browser, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def test_markdown_tables_are_drawn_as_tables(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By

    with asked_with(browser, tiny_corpus, tmp_path, "models.md", TABLE_DOC,
                    "Which+model+did+Bird+%26+Co+release+in+2023%3F", "#answer-context table.md-table") as table:
        heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert heads == ["Model", "Year", "Maker"]
        assert rows == [["Orca", "2021", "Oceanic Labs"], ["Heron <b>bold</b>", "2023", "Bird & Co"]]
        assert table.find_elements(By.TAG_NAME, "b") == []  # document text stays text
        cells = table.find_elements(By.CSS_SELECTOR, "tbody tr:first-child td")
        assert [c.get_attribute("class") for c in cells] == ["", "align-right", "align-center"]
        # the answer (the row it is in) is marked inside the table
        marked = table.find_elements(By.CSS_SELECTOR, "tr.answer-row")
        assert [m.find_elements(By.TAG_NAME, "td")[0].text for m in marked] == ["Heron <b>bold</b>"]
        assert table.find_elements(By.CSS_SELECTOR, "tr.answer-row mark.answer")
        # the answer sentence, a table row, is shown as its cells
        cells = browser.find_elements(By.CSS_SELECTOR, "#answer-sentence .cell")
        assert [c.text for c in cells] == ["Heron <b>bold</b>", "2023", "Bird & Co"]
        # the text around the table is still there, verbatim
        context = browser.find_element(By.ID, "answer-context").text
        assert "The table lists releases by year." in context and "Later models are not listed." in context
        assert "|---" not in context
        shoot(browser, tmp_path, "table")


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


LEAD_IN_DOC = ("# Install\n\nTo install quarry into a system directory:\n\n```sh\nsudo make install\n```\n\n"
               "Nothing else is needed.\n")


def test_a_lead_in_answer_shows_its_block_line_by_line(browser, tiny_corpus, tmp_path):
    from selenium.webdriver.common.by import By

    with asked_with(browser, tiny_corpus, tmp_path, "install.md", LEAD_IN_DOC,
                    "How+do+I+install+quarry+into+a+system+directory%3F", "#answer-sentence pre.answer-block") as block:
        assert block.text == "```sh\nsudo make install\n```"
        sentence = browser.find_element(By.ID, "answer-sentence").text
        assert sentence.startswith("To install quarry into a system directory:\n")
        shoot(browser, tmp_path, "lead-in")
