"""The inbox page at ``/``: newest first, every value escaped, no script."""

from __future__ import annotations

from emulator_support import notice


def test_inbox_lists_pushes_newest_first_and_escapes_html(api, emu) -> None:
    api.v2("Push", notice(Title="first", Body="plain"))
    api.v2("Push", notice(Title="<script>alert(1)</script>", Body='"quoted" & <b>bold</b>'))
    response = api.session.get(emu.url + "/", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&quot;quoted&quot; &amp; &lt;b&gt;" in page
    assert page.index("&lt;script&gt;") < page.index("first")  # newest first
    for record in emu.pushes():
        assert record["message_id"] in page
    assert "1 device(s)" in page and "DEVICE: d1" in page


def test_empty_inbox(api, emu) -> None:
    page = api.session.get(emu.url + "/", timeout=5).text
    assert "No pushes received yet." in page


def test_inbox_shows_mass_push_tasks(api, emu) -> None:
    form = {f"PushTask.1.{k}": v for k, v in notice(Title="task title").items()}
    api.v2("MassPush", form=form)
    page = api.session.get(emu.url + "/", timeout=5).text
    assert "MassPush task 1" in page and "task title" in page
