"""Fetches role credentials with botocore's InstanceMetadataFetcher and
prints them as JSON, for the fault-injection tests.

Usage: botocore_fetch.py NUM_ATTEMPTS

The endpoint comes from AWS_EC2_METADATA_SERVICE_ENDPOINT, which must be
http on a loopback IP; the check runs before botocore is imported, so no
request can reach a real metadata address, not even by default.
"""

import ipaddress
import json
import os
import sys
from urllib.parse import urlsplit


def loopback_endpoint():
    endpoint = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "")
    parts = urlsplit(endpoint)
    try:
        ip = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        ip = None
    if parts.scheme != "http" or ip is None or not ip.is_loopback:
        sys.exit("refusing to run: AWS_EC2_METADATA_SERVICE_ENDPOINT=%r is not a loopback IP" % endpoint)
    return endpoint.rstrip("/")


ENDPOINT = loopback_endpoint()

from botocore.utils import InstanceMetadataFetcher  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    fetcher = InstanceMetadataFetcher(timeout=1, num_attempts=int(sys.argv[1]), base_url=ENDPOINT + "/")
    json.dump(fetcher.retrieve_iam_role_credentials(), sys.stdout)
