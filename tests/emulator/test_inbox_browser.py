"""The inbox web app in a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``, Selenium).

Most tests drive the page against :class:`FakeInboxServer` (FAKE: canned calls over loopback, see
``inbox_browser_support``), so each behaviour of the page is pinned on its own; the last one runs the
real emulator end to end. Each test leaves ``page.png`` in its temporary folder to look at.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from inbox_browser_support import (
    ANDROID_A,
    DEVICE_A,
    DEVICE_B,
    DEVICE_C,
    IDEMPOTENT_TOKEN,
    IOS_B,
    SECURITY_TOKEN,
    SIGNATURE,
    STATIC,
    FakeInboxServer,
    call,
    chromium,
    mask,
)
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 10  # seconds a condition may take to come true (a ceiling, not a measurement)


@pytest.fixture
def browser(tmp_path) -> Iterator[Any]:
    with chromium() as driver:
        try:
            yield driver
        finally:
            driver.save_screenshot(str(tmp_path / "page.png"))


@pytest.fixture
def fake() -> Iterator[FakeInboxServer]:
    with FakeInboxServer() as server:
        yield server


def wait_for(driver: Any, condition, message: str) -> Any:
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.05).until(lambda d: condition(d))
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {message}") from None


def call_items(driver: Any) -> list[Any]:
    return driver.find_elements(By.CSS_SELECTOR, "#calls > li.call")


def seqs(driver: Any) -> list[int]:
    # In one script: the list may be redrawn between two WebDriver calls.
    return driver.execute_script(
        "return [...document.querySelectorAll('#calls > li.call')].map((n) => +n.dataset.seq);"
    )


def click(driver: Any, element: Any) -> None:
    """Click an element in mid-screen (WebDriver may leave it under the sticky top bar)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def item(driver: Any, seq: int) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f'#calls > li[data-seq="{seq}"]')


def open_page(driver: Any, url: str, calls: int) -> None:
    driver.get(url + "/")
    wait_for(driver, lambda d: len(call_items(d)) == calls, f"{calls} calls drawn")
    wait_for(driver, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "live", "the event stream")
    driver.execute_script("window.__notReloaded = true;")


def counters(driver: Any) -> dict[str, str]:
    return {s: driver.find_element(By.ID, f"count-{s}").text for s in ("sent", "refused", "throttled")}


def assert_no_leak(driver: Any, device_ids: tuple[str, ...], secrets: tuple[str, ...]) -> None:
    whole = driver.page_source + driver.execute_script("return document.body.innerText;")
    for secret in secrets:
        assert secret not in whole, f"secret {secret[:6]}… in the page"
    outside = driver.execute_script(
        "const copy = document.documentElement.cloneNode(true);"
        "copy.querySelectorAll('.notif').forEach((n) => n.remove());"
        "return copy.outerHTML;"
    )
    visible = driver.execute_script(
        "return [...document.body.querySelectorAll('*')]"
        ".filter((n) => !n.closest('.notif') && n.childNodes.length)"
        ".map((n) => [...n.childNodes].filter((c) => c.nodeType === 3).map((c) => c.data).join(''))"
        ".join('\\n') + [...document.querySelectorAll('input, select')].map((n) => n.value).join('\\n');"
    )
    for device_id in device_ids:
        assert device_id not in outside and device_id not in visible, f"full device id {mask(device_id)} outside a card"


# --- the page on its own (FAKE server) --------------------------------------------------------------


def test_static_files_ship_in_the_package_with_nothing_from_outside() -> None:
    names = sorted(p.name for p in STATIC.iterdir())
    assert names == ["app.css", "app.js", "index.html"]
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        # No CDN, no web font, no remote script: the inbox works with no internet.
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path.name
        assert "@import" not in text and "url(" not in text, path.name
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink  # values reach the page as text only


def test_cards_codes_faults_counters_and_escaping(fake, browser) -> None:
    open_page(browser, fake.url, 5)
    assert seqs(browser) == [5, 4, 3, 2, 1]  # newest first
    assert counters(browser) == {"sent": "3", "refused": "1", "throttled": "1"}

    android = item(browser, 1).find_element(By.CSS_SELECTOR, ".notif.android")
    text = android.text
    for expected in ("Order shipped", "On its way", "opens https://example.com/orders/42", "order: 42", "default"):
        assert expected in text
    assert android.find_element(By.CSS_SELECTOR, ".device-id").text == DEVICE_A  # the full id, inside the card
    ids = item(browser, 1).find_element(By.CSS_SELECTOR, ".ids").text
    assert "job-7" in ids and IDEMPOTENT_TOKEN in ids and "500000000001" in ids and mask(DEVICE_A) in ids

    # One card per resolved device, each in its platform's look.
    second = item(browser, 2)
    assert len(second.find_elements(By.CSS_SELECTOR, ".notif")) == 2
    ios = second.find_element(By.CSS_SELECTOR, ".notif.ios")
    assert (
        "badge 3" in ios.text and "chime.caf" in ios.text and "Subtitle here" in ios.text and "deep: link" in ios.text
    )
    # HTML from a client is text, never markup.
    assert '<img src=x onerror="window.__xss=1">' in ios.find_element(By.CSS_SELECTOR, ".n-title").text
    assert not browser.find_elements(By.CSS_SELECTOR, "#calls img, #calls b:not(.chip b)")
    assert browser.execute_script("return window.__xss === undefined;")

    refused = item(browser, 3)
    assert "status-refused" in refused.get_attribute("class")
    assert "InvalidParameter" in refused.find_element(By.CSS_SELECTOR, ".badge-code").text
    assert "Title is mandatory for NOTICE." in refused.text and not refused.find_elements(By.CSS_SELECTOR, ".notif")
    throttled = item(browser, 4)
    content = throttled.get_attribute("textContent")  # as written: .text would give CSS's upper case
    assert "Throttling.User" in content and "fault: throttle" in content
    assert "faulted" in throttled.get_attribute("class")
    assert "fault: latency" in item(browser, 5).get_attribute("textContent") and item(browser, 5).find_elements(
        By.CSS_SELECTOR, ".notif.ios"
    )
    assert_no_leak(browser, (DEVICE_A, DEVICE_B), (SECURITY_TOKEN, SIGNATURE))
    no_csp_errors(browser)


def test_live_calls_arrive_without_reload_and_filters_ask_the_server(fake, browser) -> None:
    open_page(browser, fake.url, 5)
    fake.publish(call(6, params={"TargetValue": DEVICE_B, "Title": "Live one"}, devices=[IOS_B]))
    wait_for(browser, lambda d: seqs(d)[:1] == [6], "the live call on top")
    assert "Live one" in item(browser, 6).text
    assert counters(browser)["sent"] == "4"
    assert browser.find_element(By.ID, "notice").text == "Push sent to 1 device."  # told to screen readers
    fake.publish(call(7, "refused", code="InvalidAppKey", answer={"Code": "InvalidAppKey", "Message": "bad key"}))
    wait_for(browser, lambda d: counters(d)["refused"] == "2", "the refused counter")
    assert browser.execute_script("return window.__notReloaded === true;")
    assert browser.find_element(By.ID, "notice").text == "Push refused: InvalidAppKey."

    # Filter by device: chosen by its masked label, sent to the server as the full id.
    select = Select(browser.find_element(By.ID, "f-device"))
    labels = [o.text for o in select.options]
    assert any(label.startswith(mask(DEVICE_A)) for label in labels) and not any(DEVICE_A in x for x in labels)
    select.select_by_visible_text(next(x for x in labels if x.startswith(mask(DEVICE_A))))
    wait_for(browser, lambda d: seqs(d) == [2, 1], "only device A's calls")
    assert any(r["query"].get("device") == DEVICE_A for r in fake.seen("GET", "/_emulator/calls"))

    # While filtered, a live call is matched by the server: B's is left out, A's comes in.
    fake.publish(call(8, params={"TargetValue": DEVICE_B, "Title": "Not A"}, devices=[IOS_B]))
    fake.publish(call(9, params={"TargetValue": DEVICE_A, "Title": "A again"}, devices=[ANDROID_A]))
    wait_for(browser, lambda d: seqs(d) == [9, 2, 1], "device A's live call")

    # Other filters go to the server too; status by the counter button (a toggle).
    browser.find_element(By.ID, "f-reset").click()
    wait_for(browser, lambda d: len(call_items(d)) == 9, "every call after reset")
    browser.find_element(By.CSS_SELECTOR, '.counter[data-status="throttled"]').click()
    wait_for(browser, lambda d: seqs(d) == [4], "the throttled call")
    assert (
        browser.find_element(By.CSS_SELECTOR, '.counter[data-status="throttled"]').get_attribute("aria-pressed")
        == "true"
    )
    browser.find_element(By.CSS_SELECTOR, '.counter[data-status="throttled"]').click()
    wait_for(browser, lambda d: len(call_items(d)) == 9, "every call again")
    browser.find_element(By.ID, "f-alias").send_keys("alice")
    wait_for(browser, lambda d: 2 in seqs(d) and 3 not in seqs(d), "alias filter")
    assert any(r["query"].get("alias") == "alice" for r in fake.seen("GET", "/_emulator/calls"))
    browser.find_element(By.ID, "f-alias").clear()
    browser.find_element(By.ID, "f-q").send_keys("no such text anywhere")
    wait_for(browser, lambda d: not call_items(d), "no call matching")
    assert browser.find_element(By.ID, "empty").text == "No call matches these filters."
    assert browser.execute_script("return window.__notReloaded === true;")


def test_the_page_keeps_at_most_500_calls(fake, browser) -> None:
    fake.calls = [call(seq, params={"Title": f"n{seq}"}) for seq in range(1, 301)]
    open_page(browser, fake.url, 200)  # the newest 200 at load
    assert seqs(browser)[0] == 300 and seqs(browser)[-1] == 101
    for seq in range(301, 701):
        fake.publish(call(seq, params={"Title": f"n{seq}"}))
    wait_for(browser, lambda d: seqs(d)[:1] == [700], "the last live call")
    assert len(seqs(browser)) == 500 and seqs(browser)[-1] == 201  # the oldest dropped: the tab stays small
    assert counters(browser)["sent"] == "700"
    item(browser, 700).find_element(By.CSS_SELECTOR, "button.details").send_keys(Keys.ENTER)
    wait_for(browser, lambda d: d.find_element(By.ID, "detail").get_attribute("open") is not None, "detail")
    no_csp_errors(browser)


def no_csp_errors(driver: Any) -> None:
    """Nothing the page did was blocked by the FAKE's Content-Security-Policy, and no script failed."""
    problems = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == []


def test_detail_view_masks_secrets_and_device_ids_and_works_by_keyboard(fake, browser) -> None:
    open_page(browser, fake.url, 5)
    button = item(browser, 1).find_element(By.CSS_SELECTOR, "button.details")
    button.send_keys(Keys.ENTER)
    dialog = browser.find_element(By.ID, "detail")
    wait_for(browser, lambda d: dialog.get_attribute("open") is not None, "the detail view")
    params = json.loads(browser.find_element(By.ID, "detail-params").text)
    assert params["Title"] == "Order shipped" and params["JobKey"] == "job-7"
    assert params["IdempotentToken"] == IDEMPOTENT_TOKEN  # not a secret: it identifies the push
    assert params["SecurityToken"] == mask(SECURITY_TOKEN) and params["Signature"] == mask(SIGNATURE)
    assert params["TargetValue"] == mask(DEVICE_A)
    answer = json.loads(browser.find_element(By.ID, "detail-answer").text)
    assert answer["MessageId"] == "500000000001"
    assert "Push · sent" in browser.find_element(By.ID, "detail-title").text
    assert_no_leak(browser, (DEVICE_A, DEVICE_B), (SECURITY_TOKEN, SIGNATURE))
    assert browser.switch_to.active_element == browser.find_element(By.ID, "detail-close")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(browser, lambda d: dialog.get_attribute("open") is None, "the detail view to close")
    assert browser.switch_to.active_element == button  # focus goes back where it was

    # A refused call's detail shows its answer, device ids in the message masked.
    click(browser, item(browser, 3).find_element(By.CSS_SELECTOR, "button.details"))
    wait_for(browser, lambda d: dialog.get_attribute("open") is not None, "the refused call's detail")
    assert json.loads(browser.find_element(By.ID, "detail-answer").text)["Code"] == "InvalidParameter"
    browser.find_element(By.ID, "detail-close").click()
    wait_for(browser, lambda d: dialog.get_attribute("open") is None, "close by button")


def test_every_control_is_labelled_and_tabs_work_by_keyboard(fake, browser) -> None:
    open_page(browser, fake.url, 5)
    unlabelled = browser.execute_script(
        "return [...document.querySelectorAll('input, select, button')]"
        ".filter((n) => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !n.textContent.trim())"
        ".map((n) => n.outerHTML);"
    )
    assert unlabelled == []
    tab = browser.find_element(By.ID, "tab-calls")
    tab.send_keys(Keys.ARROW_RIGHT)
    wait_for(browser, lambda d: d.find_element(By.ID, "view-devices").is_displayed(), "the devices view")
    assert browser.find_element(By.ID, "tab-devices").get_attribute("aria-selected") == "true"
    assert browser.switch_to.active_element == browser.find_element(By.ID, "tab-devices")
    browser.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    wait_for(browser, lambda d: d.find_element(By.ID, "view-calls").is_displayed(), "the calls view")


def test_device_registry_view_adds_devices_and_shows_refusals(fake, browser) -> None:
    open_page(browser, fake.url, 5)
    browser.find_element(By.ID, "tab-devices").click()
    rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#device-rows tr")  # noqa: E731
    wait_for(browser, lambda d: len(rows(d)) == 2, "two registered devices")
    assert mask(DEVICE_A) in rows(browser)[0].text and "user-42" in rows(browser)[0].text

    browser.find_element(By.ID, "d-id").send_keys(DEVICE_C)
    Select(browser.find_element(By.ID, "d-type")).select_by_visible_text("iOS")
    browser.find_element(By.ID, "d-account").send_keys("bob")
    browser.find_element(By.ID, "d-aliases").send_keys("bobby, robert")
    browser.find_element(By.ID, "d-tags").send_keys("beta")
    browser.find_element(By.ID, "d-tags").send_keys(Keys.ENTER)
    wait_for(browser, lambda d: len(rows(d)) == 3, "the new device listed")
    [posted] = fake.seen("POST", "/_emulator/devices")
    assert posted["content_type"] == "application/json"
    assert posted["body"] == {
        "devices": [
            {
                "device_id": DEVICE_C,
                "device_type": "iOS",
                "account": "bob",
                "aliases": ["bobby", "robert"],
                "tags": ["beta"],
            }
        ]
    }
    assert browser.find_element(By.ID, "d-id").get_attribute("value") == ""  # the form is ready for the next
    assert "bobby, robert" in rows(browser)[2].text
    assert_no_leak(browser, (DEVICE_A, DEVICE_B, DEVICE_C), ())

    # A refusal is shown (as text) and nothing is listed.
    browser.find_element(By.ID, "d-id").send_keys("bad id", Keys.ENTER)
    error = browser.find_element(By.ID, "device-error")
    wait_for(browser, lambda d: error.text.startswith("Not registered:"), "the refusal")
    assert "<script>" in error.text and len(rows(browser)) == 3
    # An empty id is refused before anything is sent.
    browser.find_element(By.ID, "d-id").clear()
    browser.execute_script("document.getElementById('d-id').required = false;")
    browser.find_element(By.CSS_SELECTOR, "#device-form button[type=submit]").click()
    wait_for(browser, lambda d: error.text == "A device id is required.", "the empty-id message")
    assert len(fake.seen("POST", "/_emulator/devices")) == 2


def test_clear_button_resets_the_inbox(fake, browser) -> None:
    open_page(browser, fake.url, 5)
    browser.find_element(By.ID, "clear").click()
    wait_for(browser, lambda d: not call_items(d), "an empty inbox")
    [reset] = fake.seen("POST", "/_emulator/reset")
    assert reset["content_type"] == "application/json" and reset["body"] == {"keep_devices": True}
    assert counters(browser) == {"sent": "0", "refused": "0", "throttled": "0"}
    assert browser.find_element(By.ID, "empty").is_displayed()
    fake.publish(call(6, params={"TargetValue": DEVICE_B, "Title": "After clear"}, devices=[IOS_B]))
    wait_for(browser, lambda d: seqs(d) == [6], "a call after the clear")


def test_without_an_event_stream_the_page_polls(fake, browser) -> None:
    fake.events_enabled = False  # the FAKE answers 404 to /_emulator/events
    browser.get(fake.url + "/")
    live = browser.find_element(By.ID, "live")
    wait_for(browser, lambda d: live.get_attribute("data-state") == "polling", "the polling fallback")
    fake.publish(call(6, params={"TargetValue": DEVICE_B, "Title": "Polled"}, devices=[IOS_B]))
    wait_for(browser, lambda d: seqs(d)[:1] == [6], "the polled call")


def test_a_failing_server_is_reported_not_hidden(fake, browser) -> None:
    fake.calls_status = 500
    browser.get(fake.url + "/")
    notice = browser.find_element(By.ID, "notice")
    wait_for(browser, lambda d: notice.text == "Could not read the calls: HTTP 500", "the error notice")
    assert not call_items(browser)


def test_readable_at_phone_width(fake, browser, tmp_path) -> None:
    browser.set_window_size(390, 844)
    open_page(browser, fake.url, 5)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth;")
    assert overflow <= 0, f"{overflow}px wider than the phone"
    card = item(browser, 2).find_elements(By.CSS_SELECTOR, ".notif")
    assert card[0].location["y"] < card[1].location["y"]  # cards stack
    browser.save_screenshot(str(tmp_path / "phone.png"))


# --- end to end, the real emulator ------------------------------------------------------------------


def test_real_emulator_inbox_end_to_end(browser, tmp_path) -> None:
    from pushfn.emulator import Emulator
    from pushfn.push import StaticCredentials

    key_id, secret, token = "STS.InboxKey", "InboxSecretValue000000000000", "CAIS-inbox-session-token-000000"
    with Emulator(security_tokens={key_id: (secret, token)}) as emu:
        emu.register_device(DEVICE_A, account="user-42", aliases=["alice"])
        emu.register_device(DEVICE_B, device_type="iOS", tags=["vip"])
        browser.get(emu.url + "/")
        browser.find_element(By.ID, "calls")  # the v2 page, not the old one
        wait_for(browser, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "live", "live")
        browser.execute_script("window.__notReloaded = true;")

        client = emu.client(credentials=StaticCredentials(key_id, secret, token))
        first = client.push(
            {
                "Target": "DEVICE",
                "TargetValue": DEVICE_A,
                "DeviceType": "ANDROID",
                "PushType": "NOTICE",
                "Title": "Order shipped",
                "Body": "On its way",
                "AndroidOpenType": "URL",
                "AndroidOpenUrl": "https://example.com/orders/42",
                "JobKey": "job-e2e",
            },
            idempotent_token=str(uuid.uuid4()),
        )
        wait_for(browser, lambda d: first.message_id in d.find_element(By.ID, "calls").text, "the first card")
        second = client.push(
            {
                "Target": "TAG",
                "TargetValue": "vip",
                "DeviceType": "iOS",
                "PushType": "NOTICE",
                "Title": "VIP",
                "Body": "Hi",
                "ios_badge": 2,
            }
        )
        wait_for(browser, lambda d: len(call_items(d)) == 2, "the second card")
        assert browser.execute_script("return window.__notReloaded === true;")
        cards = browser.find_elements(By.CSS_SELECTOR, "#calls .notif")
        assert {c.get_attribute("class").split()[1] for c in cards} == {"android", "ios"}
        assert "Order shipped" in browser.find_element(By.CSS_SELECTOR, ".notif.android").text
        assert "badge 2" in browser.find_element(By.CSS_SELECTOR, ".notif.ios").text
        assert second.message_id in browser.find_element(By.ID, "calls").text

        select = Select(browser.find_element(By.ID, "f-device"))
        wait_for(browser, lambda d: len(select.options) == 3, "both devices offered")
        select.select_by_visible_text(next(o.text for o in select.options if o.text.startswith(mask(DEVICE_A))))
        wait_for(
            browser,
            lambda d: len(call_items(d)) == 1 and first.message_id in call_items(d)[0].text,
            "only device A's push",
        )

        click(browser, call_items(browser)[0].find_element(By.CSS_SELECTOR, "button.details"))
        wait_for(browser, lambda d: d.find_element(By.ID, "detail").get_attribute("open") is not None, "detail")
        params = json.loads(browser.find_element(By.ID, "detail-params").text)
        assert params["Title"] == "Order shipped" and params["JobKey"] == "job-e2e"
        assert json.loads(browser.find_element(By.ID, "detail-answer").text)["MessageId"] == first.message_id
        assert_no_leak(browser, (DEVICE_A, DEVICE_B), (secret, token))
        browser.save_screenshot(str(tmp_path / "inbox.png"))


def test_ids_a_mass_push_or_a_refused_call_names_are_masked_outside_the_cards(browser, tmp_path) -> None:
    # Short, unregistered ids: neither the 32-character rule nor the registry knows them. The page must
    # still mask them where the call names them: a MassPush task's flattened PushTask.N.TargetValue, a
    # refused call's DeviceId, and the error message that quotes it.
    from pushfn.emulator import Emulator
    from pushfn.push import PushError

    phone, tablet, missing = "phone-7a", "tab-3x", "gone-42"
    with Emulator() as emu:
        browser.get(emu.url + "/")
        wait_for(browser, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "live", "live")
        client = emu.client()
        task = {"Target": "DEVICE", "TargetValue": f"{phone},{tablet}", "DeviceType": "ANDROID", "PushType": "NOTICE"}
        client.call("MassPush", {"PushTask": [{**task, "Title": "Sale", "Body": "Today only"}]})
        with pytest.raises(PushError):
            client.call("BindAlias", {"DeviceId": missing, "AliasName": "bob"})
        wait_for(browser, lambda d: len(call_items(d)) == 2, "both calls")
        refused, mass = call_items(browser)
        assert "does not exist" in refused.text and mask(missing) in refused.text
        assert len(mass.find_elements(By.CSS_SELECTOR, ".notif")) == 2  # the full ids stay in the cards
        assert_no_leak(browser, (phone, tablet, missing), ())
        for index in (0, 1):
            click(browser, call_items(browser)[index].find_element(By.CSS_SELECTOR, "button.details"))
            wait_for(browser, lambda d: d.find_element(By.ID, "detail").get_attribute("open") is not None, "detail")
            params = json.loads(browser.find_element(By.ID, "detail-params").text)
            assert_no_leak(browser, (phone, tablet, missing), ())
            browser.save_screenshot(str(tmp_path / f"detail-{index}.png"))
            browser.find_element(By.ID, "detail-close").click()
            wait_for(browser, lambda d: d.find_element(By.ID, "detail").get_attribute("open") is None, "closed")
        assert params["PushTask.1.TargetValue"] == f"{mask(phone)},{mask(tablet)}"


def test_real_emulator_registry_form_and_clear_button(browser) -> None:
    # The page's own POSTs pass the real server's rules (same Origin, application/json), not only the FAKE's.
    from pushfn.emulator import Emulator

    with Emulator() as emu:
        emu.register_device(DEVICE_A)
        emu.client().push({"Target": "DEVICE", "TargetValue": DEVICE_A, "DeviceType": "ANDROID",
                           "PushType": "NOTICE", "Title": "t", "Body": "b"})  # fmt: skip
        open_page(browser, emu.url, 1)
        browser.find_element(By.ID, "tab-devices").click()
        browser.find_element(By.ID, "d-id").send_keys(DEVICE_C)
        Select(browser.find_element(By.ID, "d-type")).select_by_visible_text("iOS")
        browser.find_element(By.ID, "d-aliases").send_keys("bobby, robert")
        browser.find_element(By.ID, "d-tags").send_keys("beta", Keys.ENTER)
        rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#device-rows tr")  # noqa: E731
        wait_for(browser, lambda d: len(rows(d)) == 2, "the new device listed")
        [added] = [d for d in emu.devices() if d["device_id"] == DEVICE_C]
        assert added["device_type"] == "iOS" and added["aliases"] == ["bobby", "robert"] and added["tags"] == ["beta"]
        browser.find_element(By.ID, "d-id").send_keys("one,two", Keys.ENTER)  # refused by the server: shown
        error = browser.find_element(By.ID, "device-error")
        wait_for(browser, lambda d: error.text.startswith("Not registered:"), "the refusal")
        browser.find_element(By.ID, "tab-calls").click()
        browser.find_element(By.ID, "clear").click()
        wait_for(browser, lambda d: not call_items(d), "an empty inbox")
        assert emu.calls() == [] and emu.pushes() == [] and len(emu.devices()) == 2  # devices kept
        assert_no_leak(browser, (DEVICE_A, DEVICE_C), ())


def test_device_ids_a_refused_tag_call_names_in_client_key_are_masked(browser, tmp_path) -> None:
    # BindTag / UnbindTag / QueryTags name devices in ClientKey (KeyType is DEVICE only): a refused one
    # showed short, unregistered ids in full in the list and the detail view.
    from pushfn.emulator import Emulator
    from pushfn.push import PushError

    gone, other = "gone-42", "tab-9z"
    with Emulator() as emu:
        browser.get(emu.url + "/")
        wait_for(browser, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "live", "live")
        with emu.client() as client, pytest.raises(PushError):
            client.call("BindTag", {"KeyType": "DEVICE", "ClientKey": f"{gone},{other}", "TagName": "vip"})
        wait_for(browser, lambda d: len(call_items(d)) == 1, "the refused call")
        assert_no_leak(browser, (gone, other), ())
        click(browser, call_items(browser)[0].find_element(By.CSS_SELECTOR, "button.details"))
        wait_for(browser, lambda d: d.find_element(By.ID, "detail").get_attribute("open") is not None, "detail")
        browser.save_screenshot(str(tmp_path / "detail-client-key.png"))
        assert (
            json.loads(browser.find_element(By.ID, "detail-params").text)["ClientKey"] == f"{mask(gone)},{mask(other)}"
        )
        assert_no_leak(browser, (gone, other), ())


def test_a_signature_mismatch_shows_no_security_token_or_device_id(browser, tmp_path) -> None:
    # SignatureDoesNotMatch quotes the server's V2 string to sign: every parameter percent-encoded,
    # the STS SecurityToken and a 32-character TargetValue among them ("TargetValue%3De2ba…"), where
    # the id rules, which look for the id standing alone, did not see them.
    from pushfn.emulator import Emulator
    from pushfn.push import PushClient, PushError, StaticCredentials

    token, device = "CAIStsTokenValue0123456789abcdefXYZ", "e2ba19de97604f55b165576736477b74"
    with Emulator(security_tokens={"STS.Key": ("right-secret", token)}) as emu:
        emu.register_device(device)
        browser.get(emu.url + "/")
        wait_for(browser, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "live", "live")
        wrong = StaticCredentials("STS.Key", "wrong-secret", token)
        client = PushClient(endpoint=emu.url, app_key=emu.settings.app_keys[0], credentials=wrong)
        with client, pytest.raises(PushError):
            client.push(
                    {"Target": "DEVICE", "TargetValue": device, "DeviceType": "ANDROID", "PushType": "NOTICE",
                     "Title": "Hello", "Body": "World"}
                )  # fmt: skip
        wait_for(browser, lambda d: len(call_items(d)) == 1, "the refused call")
        assert "SignatureDoesNotMatch" in call_items(browser)[0].text
        assert_no_leak(browser, (device,), (token,))
        click(browser, call_items(browser)[0].find_element(By.CSS_SELECTOR, "button.details"))
        wait_for(browser, lambda d: d.find_element(By.ID, "detail").get_attribute("open") is not None, "detail")
        browser.save_screenshot(str(tmp_path / "detail-signature.png"))
        message = json.loads(browser.find_element(By.ID, "detail-answer").text)["Message"]
        assert "string to sign" in message
        assert_no_leak(browser, (device,), (token,))


def test_a_call_with_no_readable_parameters_is_drawn(browser) -> None:
    # InvalidParameter.Encoding: kept with no action and no parameters; the page must still draw it.
    import http.client

    from pushfn.emulator import Emulator

    with Emulator() as emu:
        browser.get(emu.url + "/")
        wait_for(browser, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "live", "live")
        connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        connection.request("POST", "/?Action=Push&Version=2016-08-01&Title=%ED%A0%80")
        connection.getresponse().read()
        connection.close()
        wait_for(browser, lambda d: len(call_items(d)) == 1, "the refused call")
        assert "InvalidParameter.Encoding" in call_items(browser)[0].text
        assert counters(browser)["refused"] == "1"
