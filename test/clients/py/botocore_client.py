"""Runs botocore's and boto3's own IMDS code against imds and prints JSON.

Usage: botocore_client.py fetcher|region|session

  fetcher  InstanceMetadataFetcher.retrieve_iam_role_credentials()
  region   InstanceMetadataRegionFetcher.retrieve_region()
  session  boto3.Session().get_credentials() through the default chain
"""

import json
import sys

from loopback import ENDPOINT  # before any SDK import

import boto3  # noqa: E402
from botocore.utils import (  # noqa: E402
    InstanceMetadataFetcher,
    InstanceMetadataRegionFetcher,
)


def fetcher():
    f = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=ENDPOINT + "/")
    return f.retrieve_iam_role_credentials()


def region():
    f = InstanceMetadataRegionFetcher(timeout=1, num_attempts=1, base_url=ENDPOINT + "/")
    return {"region": f.retrieve_region()}


def session():
    creds = boto3.Session().get_credentials()
    if creds is None:
        return {"method": None}
    frozen = creds.get_frozen_credentials()
    return {
        "method": creds.method,
        "access_key": frozen.access_key,
        "secret_key": frozen.secret_key,
        "token": frozen.token,
    }


if __name__ == "__main__":
    commands = {"fetcher": fetcher, "region": region, "session": session}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    json.dump(commands[sys.argv[1]](), sys.stdout)
