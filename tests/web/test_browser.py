"""The widget and the console in a real browser (headless Chromium driven by Selenium): a customer
asks about an order, is handed off, an agent in a second browser takes over and replies, the
customer sees it, the agent hands back, the bot answers again; script in a message stays text."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.web.conftest import AGENTS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (the dev extra)")

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def _chromedriver() -> str:
    path = os.environ.get("SHOPASSIST_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not path or not os.path.exists(path):
        pytest.skip("no chromedriver: .ci/run installs Debian chromium + chromium-driver (.ci/chromium up) and "
                    "exports SHOPASSIST_TEST_CHROMEDRIVER")
    return path


def _browser(driver_path: str):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,900", "--lang=en-US"):
        options.add_argument(arg)
    binary = os.environ.get("SHOPASSIST_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    return webdriver.Chrome(service=Service(driver_path), options=options)


@pytest.fixture(scope="module")
def browsers():
    path = _chromedriver()
    customer, agent = _browser(path), _browser(path)
    yield customer, agent
    customer.quit()
    agent.quit()


def _wait(driver, condition, timeout: float = 90):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def _texts(driver, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.get_attribute("textContent") for e in driver.find_elements(By.CSS_SELECTOR, css)]


def _say(driver, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.CSS_SELECTOR, ".sa-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_hand_off_to_a_person_and_back_in_two_browsers(web, browsers):
    from selenium.webdriver.common.by import By

    customer, agent = browsers
    customer.get(f"{web.url}/#token={web.token('C001')}")
    _wait(customer, lambda d: "Connected" in _texts(d, ".sa-status")[0])
    _say(customer, "where is my order 100023?")
    _wait(customer, lambda d: any("100023" in t for t in _texts(d, ".sa-bot .sa-text")))
    _say(customer, "I want to talk to a human")
    _wait(customer, lambda d: any("connecting you with a person" in t for t in _texts(d, ".sa-notice")))

    agent.get(f"{web.url}/agent")
    _wait(agent, lambda d: d.find_element(By.ID, "login-name").is_displayed())
    agent.find_element(By.ID, "login-name").send_keys("ana")
    agent.find_element(By.ID, "login-password").send_keys(AGENTS["ana"])
    agent.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    _wait(agent, lambda d: d.find_elements(By.CSS_SELECTOR, "#queue .open"))
    agent.find_element(By.CSS_SELECTOR, "#queue .open").click()
    _wait(agent, lambda d: any("100023" in t for t in _texts(d, "#orders li")))
    agent.find_element(By.ID, "take").click()
    _wait(customer, lambda d: any("ana from our team has joined" in t for t in _texts(d, ".sa-notice")))
    _wait(agent, lambda d: d.find_element(By.ID, "reply").is_displayed())
    agent.find_element(By.ID, "reply").send_keys("Hi Alice, your earbuds are with UPS.")
    agent.find_element(By.ID, "send").click()
    _wait(customer, lambda d: "Hi Alice, your earbuds are with UPS." in _texts(d, ".sa-agent .sa-text"))

    # script in a customer's message is shown as text, in the widget and in the console
    _say(customer, XSS)
    _wait(customer, lambda d: XSS in _texts(d, ".sa-user .sa-text"))
    _wait(agent, lambda d: XSS in _texts(d, "#messages .user .text"))
    for driver, scope in ((customer, ".sa-messages"), (agent, "#messages")):
        assert driver.find_elements(By.CSS_SELECTOR, f"{scope} img, {scope} script") == []
        assert driver.execute_script("return window.__pwned === undefined")

    agent.find_element(By.ID, "handback").click()
    _wait(customer, lambda d: any("assistant again" in t for t in _texts(d, ".sa-notice")))
    before = len(_texts(customer, ".sa-bot"))
    _say(customer, "where is my order 100023?")
    _wait(customer, lambda d: len(_texts(d, ".sa-bot")) > before)
    assert "100023" in _texts(customer, ".sa-bot .sa-text")[-1]

    # a reload keeps the conversation (the widget replays what it had and what it missed)
    shown = _texts(customer, ".sa-msg .sa-text")
    customer.refresh()
    _wait(customer, lambda d: "Connected" in _texts(d, ".sa-status")[0])
    assert _texts(customer, ".sa-msg .sa-text") == shown


def test_the_widget_speaks_chinese_and_shows_product_cards(web, browsers):
    from selenium.webdriver.common.by import By

    customer = browsers[0]
    customer.get(f"{web.url}/#lang=zh")
    customer.refresh()
    _wait(customer, lambda d: "已连接" in _texts(d, ".sa-status")[0])
    assert customer.find_element(By.CSS_SELECTOR, ".sa-send").text == "发送"
    _say(customer, "do you have wireless earbuds?")
    _wait(customer, lambda d: d.find_elements(By.CSS_SELECTOR, ".sa-card"))
    card = customer.find_element(By.CSS_SELECTOR, ".sa-card")
    assert card.find_element(By.CSS_SELECTOR, ".sa-card-name").text
    assert "价格" in card.find_element(By.CSS_SELECTOR, ".sa-card-price").text
    assert customer.find_element(By.CSS_SELECTOR, ".sa-messages").get_attribute("aria-live") == "polite"
