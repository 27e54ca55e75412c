"""The inbox page: every accepted push, newest first, drawn as a phone notification.

Plain HTML with no script; every value is escaped (titles and bodies are whatever a client sent).
It refreshes itself every few seconds so it can sit open next to a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

REFRESH_SECONDS = 5
MAX_TARGET_CHARS = 120

_STYLE = """
body{font-family:system-ui,sans-serif;background:#eef0f3;margin:0;padding:1.5rem;color:#1d1d1f}
h1{font-size:1.2rem;margin:0 0 1rem}
.empty{color:#666}
.note{background:#fff;border-radius:14px;box-shadow:0 1px 3px #0002;padding:.8rem 1rem;margin:0 0 .8rem;max-width:46rem}
.head{display:flex;justify-content:space-between;font-size:.75rem;color:#666;text-transform:uppercase}
.title{font-weight:600;margin:.35rem 0 .15rem}
.body{white-space:pre-wrap;word-break:break-word}
.meta{font-size:.75rem;color:#555;margin-top:.5rem;word-break:break-all}
.cancelled{opacity:.55}
"""


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _target(push: dict[str, Any]) -> str:
    value = str(push.get("target_value") or "")
    if len(value) > MAX_TARGET_CHARS:
        value = value[:MAX_TARGET_CHARS] + "…"
    return f"{push.get('target')}: {value}"


def _card(push: dict[str, Any]) -> str:
    task = f" task {push['task_index']}" if push.get("task_index") else ""
    flags = " (cancelled)" if push.get("cancelled") else ""
    scheduled = f" · scheduled {_text(push['push_time'])}" if push.get("push_time") else ""
    return (
        f'<article class="note{" cancelled" if push.get("cancelled") else ""}">'
        f'<div class="head"><span>{_text(push.get("action"))}{_text(task)} · {_text(push.get("device_type"))}'
        f" {_text(push.get('push_type'))}{_text(flags)}</span><time>{_text(push.get('time'))}</time></div>"
        f'<div class="title">{_text(push.get("title"))}</div>'
        f'<div class="body">{_text(push.get("body"))}</div>'
        f'<div class="meta">MessageId {_text(push.get("message_id"))} · {_text(push.get("device_count"))} device(s)'
        f" · {_text(_target(push))}{scheduled}</div>"
        "</article>"
    )


def render_inbox(pushes: Sequence[dict[str, Any]]) -> str:
    """The inbox page as HTML text, newest push first; ``pushes`` are records as :meth:`Emulator.pushes` gives them."""
    cards = "".join(_card(p) for p in reversed(pushes)) or '<p class="empty">No pushes received yet.</p>'
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        "<title>pushfn emulator inbox</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>CloudPush emulator inbox — {len(pushes)} push(es)</h1>{cards}</body></html>"
    )
