"""Kubernetes' CEL library function list, transcribed.

Source: kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/cel/library/library_compatibility_test.go
at 04fad134d5860b9f05d6268412080f2fa954abf3 (``TestLibraryCompatibility``: every function
of the Kubernetes libraries, by the release that introduced it). Each must be declared in
rmctl's environment or skipped by name with the reason.
"""

SOURCE = {
    "repo": "kubernetes/kubernetes",
    "path": "staging/src/k8s.io/apiserver/pkg/cel/library/library_compatibility_test.go",
    "version": "04fad134d5860b9f05d6268412080f2fa954abf3",
}

KNOWN_FUNCTIONS = {
    # Kubernetes 1.24
    "isSorted", "sum", "max", "min", "indexOf", "lastIndexOf", "find", "findAll",
    "url", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath", "getQuery", "isURL",
    # Kubernetes 1.27
    "path", "group", "serviceAccount", "resource", "subresource", "namespace", "name", "check", "allowed", "reason",
    # Kubernetes 1.28
    "errored", "error",
    # Kubernetes 1.29
    "add", "asApproximateFloat", "asInteger", "compareTo", "isGreaterThan", "isInteger", "isLessThan",
    "isQuantity", "quantity", "sign", "sub",
    # Kubernetes 1.30
    "ip", "family", "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast",
    "ip.isCanonical", "isIP", "cidr", "containsIP", "containsCIDR", "masked", "prefixLength", "isCIDR", "string",
    # Kubernetes 1.31
    "fieldSelector", "labelSelector", "validate", "format.named", "isSemver", "major", "minor", "patch", "semver",
    # Kubernetes 1.32
    "jsonpatch.escapeKey",
    # Kubernetes 1.33 (semver again), and a later release
    "mul", "div", "divInt",
}  # fmt: skip

_URL = "the url library: no DRA attribute holds a URL (docs/cel.md)"
_AUTHZ = "the authz library: its functions need the 'authorizer' variable, which DRA selectors do not have"
SKIPPED = {
    "url": _URL,
    "getScheme": _URL,
    "getHost": _URL,
    "getHostname": _URL,
    "getPort": _URL,
    "getEscapedPath": _URL,
    "getQuery": _URL,
    "isURL": _URL,
    "path": _AUTHZ,
    "group": _AUTHZ,
    "serviceAccount": _AUTHZ,
    "resource": _AUTHZ,
    "subresource": _AUTHZ,
    "namespace": _AUTHZ,
    "name": _AUTHZ,
    "check": _AUTHZ,
    "allowed": _AUTHZ,
    "reason": _AUTHZ,
    "errored": _AUTHZ,
    "error": _AUTHZ,
    "fieldSelector": _AUTHZ,
    "labelSelector": _AUTHZ,
    "validate": "Kubernetes' named formats (format.named(...).validate): not in rmctl's environment (docs/cel.md)",
    "format.named": "Kubernetes' named formats: not in rmctl's environment (docs/cel.md)",
    "jsonpatch.escapeKey": "the jsonpatch library is for MutatingAdmissionPolicy, not DRA selectors",
}
