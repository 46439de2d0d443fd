"""ResourceSlice names: node and driver names are DNS subdomains (the API server's rule)."""

import pytest

from rmctl.errors import UsageError
from rmctl.exports.resourceslice import check_dns_subdomain


@pytest.mark.parametrize("name", ["node-1", "a", "worker.example.com", "n" * 253])
def test_valid_names(name):
    assert check_dns_subdomain(name, "node name") == name


@pytest.mark.parametrize("name", ["Bad_Name!", "", "-a", "a-", "UPPER", "a..b", "n" * 254])
def test_invalid_names_are_usage_errors(name):
    with pytest.raises(UsageError):
        check_dns_subdomain(name, "node name")


def test_cli_refuses_a_bad_node_name_and_defaults_to_a_safe_one(run_cli, tmp_path):
    from tests import synth

    root = synth.build(tmp_path / "Odd_Name+1", sockets=1, cores=2, threads=1,
                       devices=[synth.Device("0000:00:06.0", numa_node=0)])
    code, out, err = run_cli("--root", root, "export", "resourceslice", "--node-name", "Bad_Name!")
    assert code == 2 and "not a valid Kubernetes name" in err
    code, out, err = run_cli("--root", root, "export", "resourceslice", "-o", "json")
    assert code == 0, err
    import json

    assert json.loads(out)["spec"]["nodeName"] == "odd-name-1"
