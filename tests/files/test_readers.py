"""Readers behind one interface: a local folder, S3 (moto in server mode), OSS (oss2 against the FAKE
server in fake_oss.py, which checks oss2's signature). Each is driven through the same four calls."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
from fake_oss import ACCESS_KEY_ID, ACCESS_KEY_SECRET

from pushfn.push.credentials import StaticCredentials
from pushfn.targets.errors import ObjectNameError, ObjectStoreError
from pushfn.targets.formats import TargetRows
from pushfn.targets.readers import LocalFolderReader, OssReader, S3Reader, oss_endpoint

DATA = b"\xef\xbb\xbf" + b"".join(f"{n:032x}\r\n".encode() for n in range(300))


# --- local folder --------------------------------------------------------------------------------


def test_local_reader_streams_reads_sidecar_and_writes_report(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "a b.txt").write_bytes(DATA)
    (tmp_path / "lists" / "a b.txt.push.json").write_bytes(b'{"Title": "T"}')
    (tmp_path / "lists" / "a b.txt.meta.json").write_bytes(b'{"push-template": "sale"}')
    reader = LocalFolderReader(tmp_path)
    with reader.open("local", "lists/a b.txt") as stream:
        assert sum(1 for _ in TargetRows(stream, "a b.txt")) == 300
    assert reader.read_sidecar("local", "lists/a b.txt") == b'{"Title": "T"}'
    assert reader.read_sidecar("local", "lists/none.txt") is None
    assert reader.template_name("local", "lists/a b.txt") == "sale"
    assert reader.template_name("local", "lists/none.txt") is None
    where = reader.write_report("local", "lists/a b.txt", {"status": "complete", "ü": 1})
    assert json.loads(Path(where).read_text("utf-8")) == {"status": "complete", "ü": 1}
    assert Path(where).name == "a b.txt.report.json"
    assert [p.name for p in (tmp_path / "lists").iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "a/../../x.txt",
        "/etc/passwd",
        "a\x00b.txt",
        "C:evil.txt",
        "a\\..\\b.txt",
        "./a.txt",
        "a\nb",
    ],
)
def test_local_reader_refuses_unsafe_names(tmp_path: Path, name: str) -> None:
    reader = LocalFolderReader(tmp_path)
    for call in (
        lambda: reader.open("local", name),
        lambda: reader.read_sidecar("local", name),
        lambda: reader.write_report("local", name, {}),
    ):
        with pytest.raises(ObjectNameError) as caught:
            call()
        assert caught.value.reason == "name" and not caught.value.transient


def test_local_reader_refuses_an_empty_name(tmp_path: Path) -> None:
    with pytest.raises(ObjectNameError):
        LocalFolderReader(tmp_path).open("local", "")


def test_local_reader_refuses_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link.txt")
    with pytest.raises(ObjectNameError, match="outside"):
        LocalFolderReader(root).open("local", "link.txt")


def test_local_reader_missing_object_is_permanent(tmp_path: Path) -> None:
    with pytest.raises(ObjectStoreError) as caught:
        LocalFolderReader(tmp_path).open("local", "none.txt")
    assert caught.value.reason == "not_found" and not caught.value.transient


def test_local_reader_sidecar_too_large(tmp_path: Path) -> None:
    (tmp_path / "a.txt.push.json").write_bytes(b" " * (300 * 1024))
    with pytest.raises(ObjectStoreError) as caught:
        LocalFolderReader(tmp_path).read_sidecar("local", "a.txt")
    assert caught.value.reason == "too_large"


# --- S3 on moto ----------------------------------------------------------------------------------


def test_s3_reader_against_moto(s3: Any) -> None:
    s3.create_bucket(Bucket="lists")
    key = "in/my report+ü.txt.gz"
    s3.put_object(Bucket="lists", Key=key, Body=gzip.compress(DATA), Metadata={"push-template": "sale"})
    s3.put_object(Bucket="lists", Key=key + ".push.json", Body=b'{"template": "sale"}')
    reader = S3Reader(region="us-east-1")  # built by boto3 from AWS_ENDPOINT_URL
    stream = reader.open("lists", key)
    assert sum(1 for _ in TargetRows(stream, key)) == 300
    assert reader.template_name("lists", key) == "sale"
    assert reader.read_sidecar("lists", key) == b'{"template": "sale"}'
    assert reader.read_sidecar("lists", "in/other.txt") is None
    assert reader.write_report("lists", key, {"status": "complete"}) == f"s3://lists/{key}.report.json"
    stored = s3.get_object(Bucket="lists", Key=key + ".report.json")
    assert json.loads(stored["Body"].read()) == {"status": "complete"} and stored["ContentType"] == "application/json"
    assert reader.open("lists", key, start=10).read(1) == gzip.compress(DATA)[10:11]


def test_s3_reader_missing_object_and_bucket_are_permanent(s3: Any) -> None:
    s3.create_bucket(Bucket="empty")
    reader = S3Reader(region="us-east-1")
    for bucket in ("empty", "no-such-bucket"):
        with pytest.raises(ObjectStoreError) as caught:
            reader.open(bucket, "x.txt")
        assert caught.value.reason == "not_found" and not caught.value.transient
    assert reader.template_name is not None


def test_s3_reader_unreachable_is_transient(monkeypatch: pytest.MonkeyPatch, s3: Any) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9", config=Config(retries={"max_attempts": 1})
    )
    with pytest.raises(ObjectStoreError) as caught:
        S3Reader(client=client).open("lists", "x.txt")
    assert caught.value.transient and caught.value.reason == "unavailable"


# --- OSS against the FAKE server -----------------------------------------------------------------


def _oss(fake_oss: Any, token: str | None = None) -> OssReader:
    return OssReader(endpoint=fake_oss.endpoint, credentials=StaticCredentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, token))


def test_oss_reader_against_fake(fake_oss: Any) -> None:
    key = "in/niño 東京+1.csv"
    fake_oss.put("lists", key, b"device_id,name\n" + DATA, push_template="welcome")
    reader = _oss(fake_oss)
    stream = reader.open("lists", key)
    assert stream.read(9) == b"device_id"
    stream.close()
    assert reader.open("lists", key, start=15).read(3) == DATA[:3]
    assert fake_oss.requests[-1] == ("GET", "lists", key, "bytes=15-")
    assert reader.template_name("lists", key) == "welcome"
    assert reader.read_sidecar("lists", key) is None
    assert reader.write_report("lists", key, {"status": "complete"}) == f"oss://lists/{key}.report.json"
    assert json.loads(fake_oss.objects[("lists", key + ".report.json")][0]) == {"status": "complete"}
    assert json.loads(reader.read_bytes("lists", key + ".report.json", 1000) or b"") == {"status": "complete"}


def test_oss_reader_uses_sts_token(fake_oss: Any) -> None:
    fake_oss.security_token = "sts-token-1"
    fake_oss.put("lists", "a.txt", DATA)
    assert _oss(fake_oss, "sts-token-1").open("lists", "a.txt").read(3) == DATA[:3]
    with pytest.raises(ObjectStoreError) as caught:
        _oss(fake_oss, "wrong").open("lists", "a.txt")
    assert caught.value.reason == "forbidden" and not caught.value.transient


def test_oss_reader_wrong_secret_is_refused_by_the_signature_check(fake_oss: Any) -> None:
    fake_oss.put("lists", "a.txt", DATA)
    reader = OssReader(endpoint=fake_oss.endpoint, credentials=StaticCredentials(ACCESS_KEY_ID, "not-the-secret"))
    with pytest.raises(ObjectStoreError) as caught:
        reader.open("lists", "a.txt")
    assert caught.value.reason == "forbidden"


def test_oss_reader_missing_is_permanent_5xx_transient(fake_oss: Any) -> None:
    reader = _oss(fake_oss)
    with pytest.raises(ObjectStoreError) as missing:
        reader.open("lists", "none.txt")
    assert missing.value.reason == "not_found" and not missing.value.transient
    fake_oss.put("lists", "a.txt", DATA)
    fake_oss.fail_next.append(503)
    with pytest.raises(ObjectStoreError) as busy:
        reader.open("lists", "a.txt")
    assert busy.value.transient


def test_oss_endpoint_from_region() -> None:
    assert oss_endpoint("cn-hangzhou") == "https://oss-cn-hangzhou-internal.aliyuncs.com"
    assert oss_endpoint("cn-hangzhou", internal=False) == "https://oss-cn-hangzhou.aliyuncs.com"
    assert oss_endpoint("cn-hangzhou", "http://127.0.0.1:1") == "http://127.0.0.1:1"
    for bad in (None, "", "evil.com/x"):
        with pytest.raises(ObjectStoreError):
            oss_endpoint(bad)


# --- listing, the same on every store ----------------------------------------------------------

PARTS = "in/niño list+1.txt.report.json.parts/"
LISTED = [f"{PARTS}{n:06d}.json" for n in range(0, 1050, 7)]  # 150 names: more than one OSS page of 100


def _check_listing(reader: Any, bucket: str) -> None:
    for name in LISTED:
        reader.write_bytes(bucket, name, b"{}")
    reader.write_bytes(bucket, "in/niño list+1.txt.report.json", b"{}")  # beside the prefix, not under it
    reader.write_bytes(bucket, "in/niño list+1.txt.report.json.partsX", b"{}")
    assert sorted(reader.list_keys(bucket, PARTS)) == LISTED
    assert reader.list_keys(bucket, "in/nothing-here/") == []


def test_local_reader_lists_a_prefix(tmp_path: Path) -> None:
    reader = LocalFolderReader(tmp_path)
    _check_listing(reader, "bucket")
    (tmp_path / PARTS / ".report-abc.tmp").write_bytes(b"{")  # a write in progress is not listed
    assert len(reader.list_keys("bucket", PARTS)) == len(LISTED)
    with pytest.raises(ObjectNameError):
        reader.list_keys("bucket", "../out/")


def test_s3_reader_lists_a_prefix(s3: Any) -> None:
    s3.create_bucket(Bucket="listed")
    _check_listing(S3Reader(region="us-east-1"), "listed")


def test_oss_reader_lists_a_prefix_page_by_page(fake_oss: Any) -> None:
    _check_listing(_oss(fake_oss), "listed")
    pages = [r for r in fake_oss.requests if r[0] == "GET" and r[2] == ""]
    assert len(pages) >= 2  # oss2 followed NextMarker


def test_listing_failures_are_store_errors(fake_oss: Any) -> None:
    fake_oss.fail_next.append(403)
    with pytest.raises(ObjectStoreError) as caught:
        _oss(fake_oss).list_keys("listed", PARTS)
    assert caught.value.reason == "forbidden" and not caught.value.transient
    fake_oss.fail_next.extend([503] * 10)  # oss2 retries a 5xx itself; past its retries it is transient
    with pytest.raises(ObjectStoreError) as caught:
        _oss(fake_oss).list_keys("listed", PARTS)
    assert caught.value.transient
