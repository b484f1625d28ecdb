"""Refuses to go on unless the metadata endpoint is a loopback address.

Every client script imports this module before any AWS SDK or cloud-init
module, so no lookup can reach a real metadata address, not even by default.
"""

import ipaddress
import os
import sys
from urllib.parse import urlsplit


def _loopback_endpoint():
    endpoint = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "")
    parts = urlsplit(endpoint)
    try:
        ip = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        ip = None
    if parts.scheme != "http" or ip is None or not ip.is_loopback:
        sys.exit("refusing to run: AWS_EC2_METADATA_SERVICE_ENDPOINT=%r is not a loopback IP" % endpoint)
    return endpoint.rstrip("/")


ENDPOINT = _loopback_endpoint()
