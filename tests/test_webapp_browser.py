"""The web app in a real headless Chromium (Debian's chromium and chromium-driver, no download)
over a small synthetic warehouse built through Dagster: a reviewer logs in, skips, undoes and
matches a pair with the keyboard, and sees the match applied after the next refresh; an analyst
is refused the review page. Screenshots of every page go to data/screenshots/ (gitignored)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from linkage_ops.synthetic import generate_authority
from orchestration.definitions import build_definitions
from orchestration.runner import ingest_landing_folder, refresh_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(
    os.environ.get("WEBAPP_SCREENSHOTS", Path(__file__).parents[1] / "data" / "screenshots")
)
PASSWORD = "correct horse battery staple"
# The smallest synthetic authority (one year, one month of monthly feeds) whose review queue
# is not empty with this seed.
CHILDREN, SEED = 800, 14


@pytest.fixture(scope="module")
def authority(tmp_path_factory) -> Iterator[dict]:
    data_dir = tmp_path_factory.mktemp("authority")
    generate_authority(children=CHILDREN, seed=SEED, out_dir=data_dir, years=1, months=1)
    defs = build_definitions(str(data_dir))
    with dg.DagsterInstance.ephemeral() as instance:
        ingest_landing_folder(defs, instance, data_dir / "landing")
        assert refresh_warehouse(defs, instance).success
        yield {"data_dir": data_dir, "defs": defs, "instance": instance}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app(authority) -> Iterator[str]:
    """The app as `make app` runs it (waitress), on a free local port, with two accounts."""
    env = {**os.environ, "WAREHOUSE_DATA_DIR": str(authority["data_dir"])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    password_file = authority["data_dir"] / "password"
    password_file.write_text(PASSWORD)
    for name, role in (("rita", "reviewer"), ("anil", "analyst")):
        subprocess.run(
            [
                *(sys.executable, "-m", "webapp", "createuser", name, "--role", role),
                *("--password-file", str(password_file)),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "webapp", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a busy machine: do not leave it running
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[WebDriver]:
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), (
        "the browser tests need Chromium: apt-get install -y chromium chromium-driver"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1800",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(argument)
    # The driver's path is given, so Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: WebDriver, name: str) -> None:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, min(max(height + 100, 900), 6000))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def log_in(driver: WebDriver, app: str, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{app}/login/")
    driver.find_element(By.ID, "id_username").send_keys(name)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD, Keys.ENTER)
    WebDriverWait(driver, 10).until(expected_conditions.url_changes(f"{app}/login/"))


def press(driver: WebDriver, key: str) -> None:
    """Press a key on the page (not in a field) and wait for the page it leads to."""
    page = driver.find_element(By.TAG_NAME, "html")
    webdriver.ActionChains(driver).send_keys(key).perform()
    WebDriverWait(driver, 10).until(lambda _: replaced(page))


def replaced(element: WebElement) -> bool:
    """The page holding ``element`` is gone. Asked while the old document is being torn down,
    Chromium may answer "node does not belong to the document" instead of a stale element
    (``expected_conditions.staleness_of`` knows only the latter): both mean gone."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def person_keys(database: Path, *record_ids: str) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        keys = dict(
            con.execute(
                "select record_id, person_key from linkage.person_key_bridge "
                "where record_id in (?, ?)",
                list(record_ids),
            ).fetchall()
        )
    return [keys[record_id] for record_id in record_ids]


def test_a_reviewer_matches_a_pair_with_the_keyboard_and_the_refresh_applies_it(
    authority, app, browser
):
    driver = browser
    driver.get(f"{app}/review/")
    assert "/login/" in driver.current_url  # a login first
    screenshot(driver, "01_login")
    log_in(driver, app, "rita")
    assert driver.current_url.endswith("/review/")
    left = driver.find_element(By.NAME, "record_id_l").get_attribute("value")
    right = driver.find_element(By.NAME, "record_id_r").get_attribute("value")
    pair = driver.find_element(By.ID, "pair").text
    assert "comparison level" in pair and "date of birth" in pair
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart rect")  # the waterfall
    assert driver.find_element(By.ID, "other-records").text
    screenshot(driver, "02_review")
    before = person_keys(authority["data_dir"] / "warehouse.duckdb", left, right)
    assert before[0] != before[1]

    # Skip it, undo the skip, then match it with a reason: all from the keyboard.
    press(driver, "s")
    assert "skip" in driver.find_element(By.ID, "last-decision").text
    press(driver, "u")
    assert not driver.find_elements(By.ID, "last-decision")
    webdriver.ActionChains(driver).send_keys("r").perform()
    driver.switch_to.active_element.send_keys("same child, date of birth one digit apart")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    press(driver, "m")
    last = driver.find_element(By.ID, "last-decision").text
    assert "match" in last and left in last and right in last
    screenshot(driver, "03_review_after_match")

    driver.get(f"{app}/audit/")
    decisions = driver.find_element(By.ID, "decisions").text
    assert "same child, date of birth one digit apart" in decisions and "rita" in decisions
    assert "rita" in driver.find_element(By.ID, "record-views").text
    screenshot(driver, "04_audit")
    driver.get(f"{app}/quality/")
    histogram = driver.find_element(By.ID, "weight-histogram")
    assert histogram.is_displayed() and histogram.find_elements(By.TAG_NAME, "rect")
    # The match and review thresholds the linkage run used, as labelled dashed lines.
    assert len(histogram.find_elements(By.CSS_SELECTOR, "line.threshold")) == 2
    assert "match threshold" in histogram.text and "review threshold" in histogram.text
    screenshot(driver, "05_quality")
    driver.get(f"{app}/dashboard/")
    trend = driver.find_element(By.ID, "kpi-trend")
    assert trend.is_displayed()
    # A panel per KPI with a point per as-at date refreshed (one here).
    assert "looked after" in trend.text and trend.find_elements(By.TAG_NAME, "circle")
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart rect")  # the bar charts
    screenshot(driver, "05_dashboard")
    driver.get(f"{app}/restricted/?mart=targeted_interventions")
    assert driver.find_element(By.TAG_NAME, "table").text
    screenshot(driver, "05_restricted")

    # The next refresh honours the decision: both records belong to one child now, and the
    # republished queue no longer holds the pair.
    assert refresh_warehouse(authority["defs"], authority["instance"]).success
    after = person_keys(authority["data_dir"] / "warehouse.duckdb", left, right)
    assert after[0] == after[1]
    driver.get(f"{app}/review/")
    inputs = driver.find_elements(By.NAME, "record_id_l")
    assert not inputs or (inputs[0].get_attribute("value"), right) != (left, right)
    screenshot(driver, "06_review_after_refresh")


def test_the_analyst_is_refused_the_review_page(app, browser):
    driver = browser
    log_in(driver, app, "anil")
    assert driver.current_url.endswith("/quality/")
    driver.get(f"{app}/review/")
    assert driver.find_element(By.ID, "forbidden")
    assert not driver.find_elements(By.ID, "pair")
    screenshot(driver, "07_analyst_refused_review")
