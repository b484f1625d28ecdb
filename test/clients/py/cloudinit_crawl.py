"""Runs cloud-init's own EC2 code against imds and prints what it read as JSON.

Usage: /usr/bin/python3 cloudinit_crawl.py helper|datasource

  helper      helpers.ec2.get_instance_userdata / get_instance_metadata /
              get_instance_identity with api_version 2021-03-23, IMDSv1 as
              cloud-init does off EC2
  datasource  DataSourceEc2 as on EC2 (cloud name "aws", so IMDSv2 tokens),
              with metadata_urls set to imds: probes the API version, then
              crawls user data, meta-data and the identity document

Run it with Debian's /usr/bin/python3, where the cloud-init package lives.
"""

import ipaddress
import json
import sys
import tempfile
from urllib.parse import urlsplit

from loopback import ENDPOINT  # before any cloud-init import

from cloudinit import helpers, util  # noqa: E402
from cloudinit.sources import DataSourceEc2  # noqa: E402
from cloudinit.sources.helpers import ec2  # noqa: E402

API_VERSION = "2021-03-23"


def _loopback_only(url):
    # Stands in for util.is_resolvable_url, which would first resolve made-up
    # names to detect DNS hijacking: traffic that must not leave loopback.
    try:
        return ipaddress.ip_address(urlsplit(url).hostname or "").is_loopback
    except ValueError:
        return False


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def helper():
    return {
        "user_data": _text(ec2.get_instance_userdata(API_VERSION, ENDPOINT)),
        "meta_data": ec2.get_instance_metadata(API_VERSION, ENDPOINT),
        "identity": ec2.get_instance_identity(API_VERSION, ENDPOINT),
    }


def datasource():
    util.is_resolvable_url = _loopback_only
    tmp = tempfile.mkdtemp()
    sys_cfg = {
        "datasource": {
            "Ec2": {"metadata_urls": [ENDPOINT], "max_wait": 10, "timeout": 5}
        }
    }
    paths = helpers.Paths({"cloud_dir": tmp, "run_dir": tmp})
    ds = DataSourceEc2.DataSourceEc2(sys_cfg, None, paths)
    # What DMI would say on EC2; it turns on IMDSv2 and the identity crawl.
    ds._cloud_name = DataSourceEc2.CloudNames.AWS
    if not ds._get_data():
        return {"found": False}
    return {
        "found": True,
        "metadata_address": ds.metadata_address,
        "api_version": ds._crawled_metadata.get("_metadata_api_version"),
        "instance_id": ds.get_instance_id(),
        "availability_zone": ds.availability_zone,
        "region": ds.region,
        "public_keys": ds.get_public_ssh_keys(),
        "user_data": _text(ds.userdata_raw),
        "meta_data": ds.metadata,
        "identity": ds.identity,
    }


if __name__ == "__main__":
    commands = {"helper": helper, "datasource": datasource}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    json.dump(commands[sys.argv[1]](), sys.stdout, default=str)
