"""A real S3 endpoint for the tests: moto in server mode (it speaks the S3 HTTP API that
MinIO and Ceph RGW speak) on a free 127.0.0.1 port, started once per test session and
stopped at its end; and a fixture that points the portal's files at a fresh bucket of it
for one test.

Use: `s3_server = s3.s3_server; object_storage = s3.object_storage` in a test module
(after `from tests.engines import s3`).
"""

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config

from portal.filestore import S3_BACKEND, s3_options
from tests.helpers import free_port, wait_for

ACCESS_KEY = "portal-test-key"
SECRET_KEY = "portal/test+secret"  # '/' and '+' as real secrets have: URL-quoted
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str  # made at start, for tests that need just one
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}),
        )

    def storage_url(
        self, bucket: str, *, secret_key: str | None = None, **options: str
    ) -> str:
        """STORAGE_URL as production writes it, for this endpoint and `bucket`."""
        query = "&".join(
            f"{key}={quote(value, safe='')}"
            for key, value in {
                "endpoint_url": self.endpoint_url,
                "region": REGION,
                **options,
            }.items()
        )
        secret = self.secret_key if secret_key is None else secret_key
        keys = f"{quote(self.access_key, safe='')}:{quote(secret, safe='')}"
        return f"s3://{keys}@{bucket}?{query}"


@dataclass(frozen=True)
class Bucket:
    name: str
    url: str  # the STORAGE_URL that points at it
    client: object  # a boto3 S3 client, to look into the bucket beside the portal

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@contextmanager
def _moto(workdir: Path, **env: str) -> Iterator[str]:
    """moto_server on a free port, stopped when the block ends; yields its URL."""
    port = free_port()
    log = (workdir / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=workdir,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # A TCP answer, not a request: with keys checked, moto counts requests.
        up = wait_for(lambda: _listens(port), timeout=60, interval=0.1)
        assert up, f"moto_server did not start: {(workdir / 'moto.log').read_text()}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """moto accepting any keys, with one bucket made at start."""
    with _moto(tmp_path_factory.mktemp("moto")) as url:
        server = S3Server(endpoint_url=url, bucket="portal-session-files")
        server.client().create_bucket(Bucket=server.bucket)
        yield server


@pytest.fixture(scope="session")
def s3_server_checking_keys(tmp_path_factory) -> Iterator[S3Server]:
    """moto that checks the keys, as a real endpoint does: its first three requests
    (unchecked) make an IAM user with an access key allowed everything; then every
    request needs that key. Yields the server with that key and an empty bucket."""
    with _moto(
        tmp_path_factory.mktemp("moto-keys"), INITIAL_NO_AUTH_ACTION_COUNT="3"
    ) as url:
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        iam.create_user(UserName="portal")
        key = iam.create_access_key(UserName="portal")["AccessKey"]
        iam.put_user_policy(
            UserName="portal",
            PolicyName="everything",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        server = S3Server(
            endpoint_url=url,
            bucket="portal-keyed-files",
            access_key=key["AccessKeyId"],
            secret_key=key["SecretAccessKey"],
        )
        server.client().create_bucket(Bucket=server.bucket)
        yield server


def storages_with(settings, url: str) -> dict:
    """settings.STORAGES with the default storage pointed at STORAGE_URL `url`."""
    return {
        **settings.STORAGES,
        "default": {"BACKEND": S3_BACKEND, "OPTIONS": s3_options(url, {})},
    }


@pytest.fixture
def object_storage(settings, s3_server) -> Bucket:
    """The portal's files in a fresh bucket of the test's own, for one test. Django's
    setting_changed signal drops the cached storages (default_storage, storages[...])
    when STORAGES changes and again when the test ends."""
    client = s3_server.client()
    name = f"portal-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    url = s3_server.storage_url(name)
    settings.STORAGES = storages_with(settings, url)
    return Bucket(name=name, url=url, client=client)
