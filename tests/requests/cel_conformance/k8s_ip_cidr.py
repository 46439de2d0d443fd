"""Kubernetes' IP and CIDR library tests, transcribed.

Sources: kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/cel/library/ip_test.go at
95f08499d652a6211121d8af35f470609217c730 (``TestIP``) and cidr_test.go at
78fc8e44052f699bf598f84b697b41e5a328c9c5 (``TestCIDR``). ``value`` is the expected result as a
CEL literal (an ``apiservercel.IP{...}`` is ``ip("...")``); ``error`` the runtime error, of
which the part Kubernetes writes is compared (the tail Go's netip adds, "ParseAddr(...): IPv4
address too long", is its own wording). A constant that cannot parse is refused when rmctl
loads the selector (docs/cel.md difference 2: ``load_error_ok``); the cluster fails it when
the selector runs.
"""

SOURCE = {
    "repo": "kubernetes/kubernetes",
    "path": "staging/src/k8s.io/apiserver/pkg/cel/library/ip_test.go, cidr_test.go",
    "version": "ip_test.go 95f08499d652a6211121d8af35f470609217c730, cidr_test.go 78fc8e44052f699bf598f84b697b41e5a328c9c5",
}

OPTIMIZE = False  # the files build programs without cel.OptOptimize

_BAD_IP = 'IP Address "{}" parse error during conversion from string'
_BAD_CIDR = "network address parse error during conversion from string"

_IP = {
    "parse ipv4": ('ip("192.168.0.1")', 'ip("192.168.0.1")'),
    "parse invalid ipv4": ('ip("192.168.0.1.0")', None, _BAD_IP.format("192.168.0.1.0")),
    "isIP valid ipv4": ('isIP("192.168.0.1")', "true"),
    "isIP invalid ipv4": ('isIP("192.168.0.1.0")', "false"),
    "ip.isCanonical valid ipv4": ('ip.isCanonical("127.0.0.1")', "true"),
    "ip.isCanonical invalid ipv4": ('ip.isCanonical("127.0.0.1.0")', None, _BAD_IP.format("127.0.0.1.0")),
    "ipv4 family": ('ip("192.168.0.1").family()', "4"),
    "ipv4 isUnspecified true": ('ip("0.0.0.0").isUnspecified()', "true"),
    "ipv4 isUnspecified false": ('ip("127.0.0.1").isUnspecified()', "false"),
    "ipv4 isLoopback true": ('ip("127.0.0.1").isLoopback()', "true"),
    "ipv4 isLoopback false": ('ip("1.2.3.4").isLoopback()', "false"),
    "ipv4 isLinkLocalMulticast true": ('ip("224.0.0.1").isLinkLocalMulticast()', "true"),
    "ipv4 isLinkLocalMulticast false": ('ip("224.0.1.1").isLinkLocalMulticast()', "false"),
    "ipv4 isLinkLocalUnicast true": ('ip("169.254.169.254").isLinkLocalUnicast()', "true"),
    "ipv4 isLinkLocalUnicast false": ('ip("192.168.0.1").isLinkLocalUnicast()', "false"),
    "ipv4 isGlobalUnicast true": ('ip("192.168.0.1").isGlobalUnicast()', "true"),
    "ipv4 isGlobalUnicast false": ('ip("255.255.255.255").isGlobalUnicast()', "false"),
    "parse ipv6": ('ip("2001:db8::68")', 'ip("2001:db8::68")'),
    "parse invalid ipv6": ('ip("2001:db8:::68")', None, _BAD_IP.format("2001:db8:::68")),
    "isIP valid ipv6": ('isIP("2001:db8::68")', "true"),
    "isIP invalid ipv4 (2001:db8:::68)": ('isIP("2001:db8:::68")', "false"),
    "ip.isCanonical valid ipv6": ('ip.isCanonical("2001:db8::68")', "true"),
    "ip.isCanonical non-canonical ipv6": ('ip.isCanonical("2001:DB8::68")', "false"),
    "ip.isCanonical invalid ipv6": ('ip.isCanonical("2001:db8:::68")', None, _BAD_IP.format("2001:db8:::68")),
    "ipv6 family": ('ip("2001:db8::68").family()', "6"),
    "ipv6 isUnspecified true": ('ip("::").isUnspecified()', "true"),
    "ipv6 isUnspecified false": ('ip("::1").isUnspecified()', "false"),
    "ipv6 isLoopback true": ('ip("::1").isLoopback()', "true"),
    "ipv6 isLoopback false": ('ip("2001:db8::abcd").isLoopback()', "false"),
    "ipv6 isLinkLocalMulticast true": ('ip("ff02::1").isLinkLocalMulticast()', "true"),
    "ipv6 isLinkLocalMulticast false": ('ip("fd00::1").isLinkLocalMulticast()', "false"),
    "ipv6 isLinkLocalUnicast true": ('ip("fe80::1").isLinkLocalUnicast()', "true"),
    "ipv6 isLinkLocalUnicast false": ('ip("fd80::1").isLinkLocalUnicast()', "false"),
    "ipv6 isGlobalUnicast true": ('ip("2001:db8::abcd").isGlobalUnicast()', "true"),
    "ipv6 isGlobalUnicast false": ('ip("ff00::1").isGlobalUnicast()', "false"),
    "converting an IP address to a string": ('string(ip("192.168.0.1"))', '"192.168.0.1"'),
}

_CIDR = {
    "parse ipv4": ('cidr("192.168.0.0/24")', 'cidr("192.168.0.0/24")'),
    "parse invalid ipv4": ('cidr("192.168.0.0/")', None, _BAD_CIDR),
    "contains IP ipv4 (IP)": ('cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))', "true"),
    "does not contain IP ipv4 (IP)": ('cidr("192.168.0.0/24").containsIP(ip("192.168.1.1"))', "false"),
    "contains IP ipv4 (string)": ('cidr("192.168.0.0/24").containsIP("192.168.0.1")', "true"),
    "does not contain IP ipv4 (string)": ('cidr("192.168.0.0/24").containsIP("192.168.1.1")', "false"),
    "contains CIDR ipv4 (CIDR)": ('cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/25"))', "true"),
    "does not contain IP ipv4 (CIDR)": ('cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/23"))', "false"),
    "contains CIDR ipv4 (string)": ('cidr("192.168.0.0/24").containsCIDR("192.168.0.0/25")', "true"),
    "does not contain CIDR ipv4 (string)": ('cidr("192.168.0.0/24").containsCIDR("192.168.0.0/23")', "false"),
    "returns IP ipv4": ('cidr("192.168.0.0/24").ip()', 'ip("192.168.0.0")'),
    "masks masked ipv4": ('cidr("192.168.0.0/24").masked()', 'cidr("192.168.0.0/24")'),
    "masks unmasked ipv4": ('cidr("192.168.0.1/24").masked()', 'cidr("192.168.0.0/24")'),
    "returns prefix length ipv4": ('cidr("192.168.0.0/24").prefixLength()', "24"),
    "parse ipv6": ('cidr("2001:db8::/32")', 'cidr("2001:db8::/32")'),
    "parse invalid ipv6": ('cidr("2001:db8::/")', None, _BAD_CIDR),
    "contains IP ipv6 (IP)": ('cidr("2001:db8::/32").containsIP(ip("2001:db8::1"))', "true"),
    "does not contain IP ipv6 (IP)": ('cidr("2001:db8::/32").containsIP(ip("2001:dc8::1"))', "false"),
    "contains IP ipv6 (string)": ('cidr("2001:db8::/32").containsIP("2001:db8::1")', "true"),
    "does not contain IP ipv6 (string)": ('cidr("2001:db8::/32").containsIP("2001:dc8::1")', "false"),
    "contains CIDR ipv6 (CIDR)": ('cidr("2001:db8::/32").containsCIDR(cidr("2001:db8::/33"))', "true"),
    "does not contain IP ipv6 (CIDR)": ('cidr("2001:db8::/32").containsCIDR(cidr("2001:db8::/31"))', "false"),
    "contains CIDR ipv6 (string)": ('cidr("2001:db8::/32").containsCIDR("2001:db8::/33")', "true"),
    "does not contain CIDR ipv6 (string)": ('cidr("2001:db8::/32").containsCIDR("2001:db8::/31")', "false"),
    "returns IP ipv6": ('cidr("2001:db8::/32").ip()', 'ip("2001:db8::")'),
    "masks masked ipv6": ('cidr("2001:db8::/32").masked()', 'cidr("2001:db8::/32")'),
    "masks unmasked ipv6": ('cidr("2001:db8:1::/32").masked()', 'cidr("2001:db8::/32")'),
    "returns prefix length ipv6": ('cidr("2001:db8::/32").prefixLength()', "32"),
    "converting a CIDR to a string": ('string(cidr("192.168.0.0/24"))', '"192.168.0.0/24"'),
}

CASES: dict[str, dict] = {}
for _file, _rows in (("ip_test.go", _IP), ("cidr_test.go", _CIDR)):
    for _name, _row in _rows.items():
        _expr, _value = _row[0], _row[1]
        if _value is not None:
            CASES[f"{_file}/{_name}"] = dict(expr=_expr, value=_value)
        else:
            CASES[f"{_file}/{_name}"] = dict(expr=_expr, error=_row[2], typed="any", load_error_ok=True)
CASES["ip_test.go/passing cidr into isIP returns compile error"] = dict(
    expr='isIP(cidr("192.168.0.0/24"))', compile_error="found no matching overload for 'isIP' applied to '(net.CIDR)'"
)

_TYPES = "type values are not in rmctl's environment (docs/cel.md difference 7: type() gives the name only)"
SKIPPED = {
    "ip_test.go/type of IP is net.IP": _TYPES,
    "cidr_test.go/type of CIDR is net.CIDR": _TYPES,
}
