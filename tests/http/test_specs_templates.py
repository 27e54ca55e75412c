"""Named message templates: loading, safe substitution, and every error the caller can cause."""

from __future__ import annotations

import json

import pytest

from pushfn.push.errors import ConfigurationError, InvalidRequestError
from pushfn.settings import Settings
from pushfn.specs.templates import compile_template, load_templates, render_template

SHIPPED = {
    "Target": "ACCOUNT",
    "PushType": "NOTICE",
    "Title": "Order {order} shipped",
    "Body": "Arrives {eta} {{not a slot}}",
    "iOSBadge": "{badge}",
    "ExtParameters": {"order": "{order}", "kind": "shipping"},
}


def _problems(exc: pytest.ExceptionInfo[InvalidRequestError]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.value.problems}


def test_inline_json_from_env_renders_every_slot() -> None:
    templates = load_templates(
        Settings.from_env({"PUSHFN_TEMPLATES": json.dumps({"order_shipped": SHIPPED})}).pushfn_templates
    )
    assert templates["order_shipped"].slots == {"order", "eta", "badge"}

    params = render_template(
        templates,
        "order_shipped",
        {"order": "42", "eta": "Monday", "badge": 3},
        overrides={"TargetValue": "alice"},
    )

    assert params == {
        "Target": "ACCOUNT",
        "PushType": "NOTICE",
        "Title": "Order 42 shipped",
        "Body": "Arrives Monday {not a slot}",
        "iOSBadge": 3,  # a value that is one slot keeps the caller's type
        "ExtParameters": '{"order":"42","kind":"shipping"}',
        "TargetValue": "alice",
    }


def test_file_path_source(tmp_path) -> None:
    path = tmp_path / "templates.json"
    path.write_text(json.dumps({"digest": {"Title": "Hi {name}", "Body": "b"}}), encoding="utf-8")
    templates = load_templates(str(path))
    assert render_template(templates, "digest", {"name": "Ann"})["Title"] == "Hi Ann"


def test_no_configuration_means_no_templates() -> None:
    assert load_templates(Settings.from_env({}).pushfn_templates) == {} and load_templates() == {}
    assert load_templates("  ") == {}


def test_overrides_replace_either_spelling_and_are_not_rendered() -> None:
    templates = {"t": {"target": "DEVICE", "ios_badge": 1, "Title": "x"}}
    params = render_template(templates, "t", {}, overrides={"Target": "ALIAS", "iOSBadge": 5, "Body": "{raw}"})
    assert params == {"Title": "x", "Target": "ALIAS", "iOSBadge": 5, "Body": "{raw}"}


def test_booleans_and_numbers_inside_text() -> None:
    params = render_template({"t": {"Body": "{n} items, urgent={u}"}}, "t", {"n": 2.5, "u": True})
    assert params["Body"] == "2.5 items, urgent=true"


def test_user_data_with_braces_is_inserted_literally() -> None:
    params = render_template({"t": {"Body": "Hello {name}"}}, "t", {"name": "{__class__} {0}"})
    assert params["Body"] == "Hello {__class__} {0}"


def test_unknown_template_names_the_field_and_known_names() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        render_template({"a": {"Title": "x"}}, "nope", {})
    assert _problems(exc) == {("template", "unknown_template")}
    assert "a" in exc.value.problems[0].message


def test_missing_extra_and_wrong_type_params_are_all_reported() -> None:
    templates = {"t": {"Title": "{a} {b}", "Body": "{c}"}}
    with pytest.raises(InvalidRequestError) as exc:
        render_template(templates, "t", {"a": "1", "c": {"x": 1}, "zzz": "?"})
    assert _problems(exc) == {("params.b", "missing"), ("params.zzz", "unknown"), ("params.c", "type")}


def test_params_must_be_an_object() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        render_template({"t": {"Title": "x"}}, "t", ["a"])  # type: ignore[arg-type]
    assert _problems(exc) == {("params", "type")}


@pytest.mark.parametrize("text", ["{a.b}", "{a[0]}", "{a!r}", "{a:>10}", "{}", "{0}", "lone { brace", "lone }"])
def test_anything_but_a_bare_slot_is_refused_at_load_time(text: str) -> None:
    with pytest.raises(ConfigurationError, match="bare"):
        compile_template("t", {"Body": text})


@pytest.mark.parametrize(
    "source, match",
    [
        ("{not json", "not valid JSON"),
        ('{"t": "not an object"}', "non-empty JSON object"),
        ('{"t": {}}', "non-empty JSON object"),
        ('{"bad name!": {"Title": "x"}}', "template name"),
        ("/definitely/not/here.json", "cannot read"),
    ],
)
def test_bad_configuration_is_a_configuration_error(source: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        load_templates(source)


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(ConfigurationError, match="JSON object"):
        load_templates('["a"]')


# --- issue 13 item 12: the templates file decodes like every other JSON input ---------------------


def test_a_templates_file_or_inline_value_with_a_utf8_bom_is_accepted(tmp_path) -> None:
    path = tmp_path / "templates.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"digest": {"Title": "Hi {name}", "Body": "b"}}).encode())
    assert render_template(load_templates(str(path)), "digest", {"name": "Ann"})["Title"] == "Hi Ann"
    inline = "\ufeff" + json.dumps({"digest": {"Title": "Yo {name}", "Body": "b"}})
    assert render_template(load_templates(inline), "digest", {"name": "Bo"})["Title"] == "Yo Bo"


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        (b'{"t": {"Title": ' + b"[" * 40 + b"]" * 40 + b"}}", "depth"),
        (b'{"t": {"iOSBadge": ' + b"9" * 5000 + b"}}", "number"),
        (b'{"t": {"Title": "a"}, "t": {"Title": "b"}}', "duplicate_key"),
        (b'{"t": {"Title": "\xff"}}', "encoding"),
        (b'{"t": {"Title": "\\ud800"}}', "text"),
        (b'{"t": {"Title": NaN}}', "json"),
    ],
)
def test_a_templates_file_that_is_not_bounded_json_names_the_rule(tmp_path, document, rule) -> None:
    path = tmp_path / "templates.json"
    path.write_bytes(document)
    with pytest.raises(ConfigurationError, match=rf"PUSHFN_TEMPLATES: not valid JSON \({rule}: "):
        load_templates(str(path))
