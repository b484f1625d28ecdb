"""Drives imds's control plane with boto3's EC2 client, and reads the data
plane with botocore's own metadata fetcher. Prints one JSON document.

Usage:
  ec2_client.py call OPERATION JSON_ARGS   boto3 ec2 client call; a refusal
                                           prints {"Error": code, "Status": n}
  ec2_client.py fetch                      InstanceMetadataFetcher credentials

The control endpoint comes from IMDS_CONTROL_ENDPOINT, the metadata endpoint
from AWS_EC2_METADATA_SERVICE_ENDPOINT. Both must be http on a loopback IP
literal; the script exits before importing any SDK otherwise.
"""

import ipaddress
import json
import os
import sys
from urllib.parse import urlsplit


def loopback(name):
    value = os.environ.get(name, "")
    parts = urlsplit(value)
    try:
        ok = parts.scheme == "http" and ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"{name}={value!r} is not http on a loopback IP; refusing to run")
    return value.rstrip("/")


CONTROL = loopback("IMDS_CONTROL_ENDPOINT")
METADATA = loopback("AWS_EC2_METADATA_SERVICE_ENDPOINT")

import boto3  # noqa: E402  (after the endpoint checks)
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from botocore.utils import InstanceMetadataFetcher  # noqa: E402


def call(operation, args):
    client = boto3.client(
        "ec2",
        endpoint_url=CONTROL,
        config=Config(retries={"max_attempts": 1}),
    )
    try:
        out = getattr(client, operation)(**json.loads(args))
    except ClientError as e:
        return {
            "Error": e.response["Error"]["Code"],
            "Status": e.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    out.pop("ResponseMetadata", None)
    return out


def fetch():
    f = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=METADATA + "/")
    return f.retrieve_iam_role_credentials()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "call":
        result = call(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 2 and sys.argv[1] == "fetch":
        result = fetch()
    else:
        sys.exit(__doc__)
    json.dump(result, sys.stdout, default=str)
