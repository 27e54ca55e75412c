"""Target files in each format and encoding: what is read, what is skipped, what is reported by line."""

from __future__ import annotations

import csv
import io
import json

import pytest
from targets_support import PERSONAL, device_id, gz, plan, problems, sent_targets

from pushfn.errors import PushfnError
from pushfn.targets.errors import TargetFileError, UnsupportedFormatError
from pushfn.targets.formats import MAX_LINE_BYTES, MAX_RECORD_LINES, TargetRows, detect_format

IDS = [device_id(n) for n in range(5)]
HEX = device_id(0xABCDEF)


def _txt(lines: list[str], *, bom: bool = False, newline: str = "\n") -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode("utf-8") + newline.encode()


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("compressed", [False, True])
def test_txt_in_every_encoding_reads_the_same_targets(bom, newline, compressed):
    data = _txt(IDS, bom=bom, newline=newline)
    name = "lists/ids.txt.gz" if compressed else "lists/ids.txt"
    chunks, report = plan(gz(data) if compressed else data, name)
    assert sent_targets(chunks) == [("DEVICE", i) for i in IDS]
    assert report.lines_read == 5 and report.valid == 5 and report.invalid == 0
    assert chunks[0].first_line == 1 and chunks[0].last_line == 5


def test_txt_skips_blank_and_comment_lines_but_counts_them_as_lines():
    data = _txt(["# exported 2024-07-01", "", IDS[0], "   ", "  # indented comment", f"  {IDS[1]}\t", "", IDS[2]])
    chunks, report = plan(data, "a.TXT")
    assert sent_targets(chunks) == [("DEVICE", i) for i in IDS[:3]]
    assert report.lines_read == 8 and report.invalid == 0
    assert (chunks[0].first_line, chunks[0].last_line) == (3, 8)


def test_txt_target_type_comes_from_the_caller():
    chunks, _ = plan(_txt(["alice", "bob@example.com"]), "a.txt", target_type="ACCOUNT")
    assert chunks[0].params["Target"] == "ACCOUNT" and chunks[0].params["TargetValue"] == "alice,bob@example.com"
    with pytest.raises(ValueError, match="target_type"):
        TargetRows(io.BytesIO(b""), "a.txt", target_type="TAG")


def test_invalid_lines_and_duplicates_are_reported_by_physical_line():
    lines = [
        IDS[0],  # 1
        "short",  # 2 device_id
        IDS[1],  # 3
        IDS[0],  # 4 duplicate
        "",  # 5
        HEX.upper(),  # 6 valid (letters or digits, any case): not the same id as line 10
        HEX,  # 7
        f"{IDS[2]},{IDS[3]}",  # 8 comma
        "é" * 32,  # 9 not ASCII
        IDS[1],  # 10 duplicate
    ]
    data = _txt(lines).replace(b"\xc3\xa9" * 32, b"\xff" * 32)  # line 9 is not UTF-8
    chunks, report = plan(data, "a.txt")
    assert problems(report) == [(2, "device_id"), (8, "single_value"), (9, "encoding")]
    assert report.duplicate_lines == [4, 10]
    assert (report.valid, report.invalid, report.duplicate, report.lines_read) == (4, 3, 2, 10)
    assert [v for _, v in sent_targets(chunks)] == [IDS[0], IDS[1], HEX.upper(), HEX]
    listed = json.dumps(report.to_dict())
    assert IDS[2] not in listed  # messages never quote a target


def test_account_and_alias_limits_are_utf8_bytes_and_control_characters_are_refused():
    data = _txt(["a" * 64, "a" * 65, "é" * 32, "é" * 33, "tab\there", "ok user"])
    _, report = plan(data, "a.txt", target_type="ACCOUNT")
    assert problems(report) == [(2, "max_bytes"), (4, "max_bytes"), (5, "control_character")]
    _, report = plan(_txt(["a" * 128, "a" * 129, "x\u0085y"]), "a.txt", target_type="ALIAS")
    assert problems(report) == [(2, "max_bytes"), (3, "control_character")]


def test_a_line_longer_than_the_limit_is_reported_without_being_buffered():
    data = (
        IDS[0].encode()
        + b"\n"
        + b"x" * (3 * MAX_LINE_BYTES)
        + b"\n"
        + IDS[1].encode()
        + b"\n"
        + b"y" * (MAX_LINE_BYTES + 1)
    )
    chunks, report = plan(data, "a.txt")
    assert problems(report) == [(2, "line_too_long"), (4, "line_too_long")]
    assert sent_targets(chunks) == [("DEVICE", IDS[0]), ("DEVICE", IDS[1])]


def test_csv_header_names_the_target_type_and_the_variables():
    data = "\ufeff# campaign july\r\n\r\naccount,name,city\r\nu1,Ann,Paris\r\nu2,Bob,Oslo\r\n".encode()
    chunks, report = plan(data, "july.csv", PERSONAL)
    assert [c.action for c in chunks] == ["MassPush"]
    tasks = chunks[0].params["PushTask"]
    assert [(t["Target"], t["TargetValue"], t["Title"], t["Body"]) for t in tasks] == [
        ("ACCOUNT", "u1", "Hi Ann", "Paris"),
        ("ACCOUNT", "u2", "Hi Bob", "Oslo"),
    ]
    assert tasks[0]["ExtParameters"] == '{"n":"Ann"}'
    assert (chunks[0].first_line, chunks[0].last_line, report.lines_read) == (4, 5, 5)


def test_csv_quoting_with_commas_quotes_and_newlines_in_variable_columns():
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["device_id", "name", "city"])
    writer.writerow([IDS[0], 'Ann "the best", Jr.', "Line one\nLine two"])
    writer.writerow([IDS[1], "Bob", "Oslo"])
    writer.writerow(["bad", "x", "y"])
    chunks, report = plan(gz(buffer.getvalue().encode()), "q.csv.gz", PERSONAL)
    tasks = chunks[0].params["PushTask"]
    assert tasks[0]["Title"] == 'Hi Ann "the best", Jr.' and tasks[0]["Body"] == "Line one\nLine two"
    assert tasks[1]["Title"] == "Hi Bob"
    # The quoted newline makes row 1 span lines 2-3: Bob is on line 4, the bad row on line 5.
    assert problems(report) == [(5, "device_id")]
    assert (chunks[0].first_line, chunks[0].last_line) == (2, 4)


def test_csv_rows_with_the_wrong_number_of_fields_blank_rows_and_bad_bytes():
    data = (
        b"alias,name,city\n"
        b"a1,Ann\n"  # 2 columns
        b",,\n"  # 3 blank row
        b"\n"  # 4 blank
        b"a2,\xff,x\n"  # 5 encoding
        b"a3,Bo\x00b,x\n"  # 6 NUL
        b",x,y\n"  # 7 required
        b"a4,Cy,Rome\n"  # 8
        b"a4,Di,Nice\n"  # 9 duplicate
    )
    chunks, report = plan(data, "x.csv", PERSONAL)
    assert problems(report) == [(2, "columns"), (5, "encoding"), (6, "control_character"), (7, "required")]
    assert report.duplicate_lines == [9]
    assert sent_targets(chunks) == [("ALIAS", "a4")]
    assert chunks[0].params["PushTask"][0]["Title"] == "Hi Cy"  # the first row of a duplicate wins


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"token,name\nx,y\n", "first column"),
        (b"device_id,name,name\n", "same name"),
        (b"device_id,1st\n", "variable name"),
        (b"\xff\xfe,a\n", "not UTF-8"),
    ],
)
def test_csv_with_an_unusable_header_is_rejected_with_its_line(data, fragment):
    _, report = plan(data, "x.csv", PERSONAL)
    assert report.rejected["rule"] == "header" and fragment in report.rejected["message"]
    assert report.rejected["line"] == 1 and report.status == "rejected"


def test_csv_with_runaway_quoting_is_rejected_after_flushing_the_rows_before_it():
    rows = [f"{device_id(n)},N{n},C{n}" for n in range(3)]
    data = (
        "device_id,name,city\n" + "\n".join(rows) + "\n" + f'{device_id(9)},"open\n' + "x\n" * (MAX_RECORD_LINES + 5)
    ).encode()
    chunks, report = plan(data, "x.csv", PERSONAL)
    assert report.rejected["rule"] == "csv" and report.rejected["line"] == 5
    assert len(sent_targets(chunks)) == 3 and report.valid == 3


def test_csv_variable_columns_need_a_template_with_those_placeholders():
    data = f"device_id,name,city\n{IDS[0]},Ann,Paris\n".encode()
    chunks, report = plan(data, "x.csv")  # content without placeholders
    assert chunks == [] and problems(report) == [(2, "template.unknown")]
    data = f"device_id,name\n{IDS[0]},Ann\n".encode()
    chunks, report = plan(data, "x.csv", PERSONAL)  # city is missing
    assert chunks == [] and problems(report) == [(2, "template.missing")]


def test_jsonl_lines_carry_their_target_type_and_variables():
    lines = [
        "# comment",
        json.dumps({"device_id": IDS[0], "vars": {"name": "Ann", "city": "Paris"}}),
        "",
        json.dumps({"account": "u1", "vars": {"name": "Bob", "city": 7}}),
        json.dumps({"alias": "a1", "vars": {"name": "Cy", "city": "Rome"}}),
        '{"device_id": "x", "device_id": "y"}',  # 6 duplicate key
        '{"device_id": 5}',  # 7 type
        "[1]",  # 8 shape
        '{"device_id": "' + IDS[1] + '", "account": "u"}',  # 9 two targets
        '{"device_id": "' + IDS[1] + '", "extra": 1}',  # 10 unknown field
        '{"device_id": "' + IDS[1] + '", "vars": {"name": {"a": 1}, "city": "x"}}',  # 11 template type
        "{not json",  # 12
        '{"device_id": "' + IDS[1] + '", "vars": [1]}',  # 13 vars type
    ]
    data = "\r\n".join(lines).encode()
    chunks, report = plan(gz(b"\xef\xbb\xbf" + data), "p.jsonl.gz", PERSONAL)
    assert problems(report) == [
        (6, "duplicate_key"),
        (7, "type"),
        (8, "shape"),
        (9, "shape"),
        (10, "unknown_field"),
        (11, "template.type"),
        (12, "json"),
        (13, "type"),
    ]
    assert [(c.target_type, c.count) for c in chunks] == [("DEVICE", 1), ("ACCOUNT", 1), ("ALIAS", 1)]
    assert chunks[1].params["PushTask"][0]["Body"] == 7  # a value that is one slot keeps its type


def test_jsonl_without_variables_sends_one_push_per_target_type():
    lines = [json.dumps({"device_id": i}) for i in IDS[:2]] + [json.dumps({"account": "u1", "vars": None})]
    chunks, _ = plan("\n".join(lines).encode(), "p.jsonl")
    assert [(c.action, c.target_type, c.count) for c in chunks] == [("Push", "DEVICE", 2), ("Push", "ACCOUNT", 1)]


@pytest.mark.parametrize("name", ["a.txt", "a.csv", "a.jsonl", "a.txt.gz", "a.csv.gz", "a.jsonl.gz"])
def test_an_empty_file_has_zero_targets_and_a_complete_report(name):
    data = gz(b"") if name.endswith(".gz") else b""
    chunks, report = plan(data, name, PERSONAL if ".csv" in name else None)
    assert chunks == [] and report.valid == 0 and report.lines_read == 0
    assert report.status == "complete" and report.to_dict()["totals"]["chunks"] == 0


def test_a_file_of_only_invalid_lines_plans_no_chunk():
    chunks, report = plan(_txt(["nope", "also nope", "#", ""]), "a.txt")
    assert chunks == [] and report.invalid == 2 and report.status == "complete"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("targets.xlsx", ".xlsx is not a target file format"),
        ("targets.gz", "does not say what it holds"),
        ("targets.json.gz", "does not say what it holds"),
        ("README", "no extension"),
        (".txt", "no extension"),
        ("a.push.json", ".json is not"),
        ("a.report.json", ".json is not"),
    ],
)
def test_an_unknown_extension_is_rejected_before_reading(name, fragment):
    class Unread(io.RawIOBase):
        def read(self, size=-1):
            raise AssertionError("read before the name was checked")

    with pytest.raises(UnsupportedFormatError) as caught:
        TargetRows(Unread(), name)
    assert fragment in str(caught.value) and caught.value.rule == "format" and caught.value.line is None
    assert isinstance(caught.value, TargetFileError) and isinstance(caught.value, PushfnError)


def test_detect_format_reads_only_the_last_path_segment_case_insensitively():
    assert detect_format("a.b/c.CSV.GZ").to_dict() == {"kind": "csv", "gzip": True}
    assert detect_format("dir.txt/list.jsonl").kind == "jsonl"
    with pytest.raises(UnsupportedFormatError):
        detect_format("list.txt/")


@pytest.mark.parametrize("cut", [5, 30, -4])
def test_a_corrupt_or_truncated_gzip_is_rejected_naming_the_line_reached(cut):
    data = gz(_txt([device_id(n) for n in range(20_000)]))
    chunks, report = plan(data[:cut], "a.txt.gz")
    assert report.rejected["rule"] == "gzip"
    assert report.rejected["line"] == report.lines_read + 1
    assert report.valid == sum(c.count for c in chunks)  # what was read before is planned, once


def test_a_file_is_streamed_once():
    rows = TargetRows(io.BytesIO(b""), "a.txt")
    list(rows)
    with pytest.raises(RuntimeError, match="once"):
        iter(rows)


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_csv_and_jsonl_in_every_encoding_read_the_same_rows(kind, bom, newline, compressed):
    if kind == "csv":
        lines = ["# note", "device_id,name,city", f"{IDS[0]},Ann,Paris", "", "# note", f'{IDS[1]},"Bob, Jr.",Oslo']
    else:
        rows = [(IDS[0], "Ann", "Paris"), (IDS[1], "Bob, Jr.", "Oslo")]
        lines = [json.dumps({"device_id": d, "vars": {"name": n, "city": c}}) for d, n, c in rows]
        lines[1:1] = ["", "# note"]
    data = _txt(lines, bom=bom, newline=newline)
    name = f"rows.{kind}.gz" if compressed else f"rows.{kind}"
    chunks, report = plan(gz(data) if compressed else data, name, PERSONAL)
    tasks = chunks[0].params["PushTask"]
    assert [(t["TargetValue"], t["Title"], t["Body"]) for t in tasks] == [
        (IDS[0], "Hi Ann", "Paris"),
        (IDS[1], "Hi Bob, Jr.", "Oslo"),
    ]
    assert report.lines_read == len(lines) and report.invalid == 0 and report.valid == 2


def test_csv_comment_lines_after_the_header_are_skipped_but_quoted_hashes_are_data():
    lines = [
        "account,name,city",
        "# a comment between records",
        "  # an indented comment",
        '"#tagged",Ann,Paris',  # quoted: a target that begins with # is data
        '"multi',  # a quoted field spanning lines: its # line is data, not a comment
        '# inside quotes",Bob,Oslo',
        "alice,Cy,Rome",
    ]
    chunks, report = plan(_txt(lines), "rows.csv", PERSONAL)
    assert [value for _, value in sent_targets(chunks)] == ["#tagged", "alice"]
    assert report.lines_read == 7 and report.valid == 2
    assert [line for line, _ in problems(report)] == [5]  # the two-line account has a newline in it
