"""DRA's selector compile tests, transcribed.

Source: kubernetes/kubernetes staging/src/k8s.io/dynamic-resource-allocation/cel/compile_test.go
(``testcases``, run with list-type attributes enabled: maxElementsListTypeEnabled = 64).
Each case: expression, driver, attributes (qualified name -> value; a list is a list-type
attribute, a ("version", "1.0.0") pair a version), capacity, and what DRA expects:
``compile_error`` (a substring), ``match_error`` (a substring of the runtime error),
``match`` and ``cost`` (DRA's worst-case estimate, in cel-go units).

Cases left out, with the reason:
* ``includes-function-compilation-error``: DRA's "new expressions" environment without the
  list-type feature gate; rmctl has one environment, the newest.
* ``allow_multiple_allocations_disabled``: same, the consumable-capacity gate off.
"""

M = 64  # maxElementsListTypeEnabled
V = "version"

CASES = {
    "true": dict(expression="true", match=True),
    "false": dict(expression="false", match=False),
    "syntax-error": dict(expression="?!", compile_error="Syntax error"),
    "type-error": dict(expression="1", compile_error="must evaluate to bool or the unknown type, not int"),
    "runtime-error-lookup-identifier": dict(
        expression='device.attributes["no-such-domain"].noSuchAttr.isGreaterThan(quantity("0"))',
        match_error="no such key: noSuchAttr",
        cost=6,
    ),
    "runtime-error-lookup-map": dict(
        expression='device.attributes["no-such-domain"]["noSuchAttr"].isGreaterThan(quantity("0"))',
        match_error="no such key: noSuchAttr",
        cost=6,
    ),
    "domain-check-negative": dict(expression='"no-such-domain" in device.attributes', match=False, cost=3),
    "domain-check-positive": dict(
        expression='"dra.example.com" in device.attributes',
        attributes={"dra.example.com/something": True},
        match=True,
        cost=3,
    ),
    "empty-driver-name": dict(expression='device.driver == ""', match=True, cost=2),
    "real-driver-name": dict(
        expression='device.driver == "dra.example.com"', driver="dra.example.com", match=True, cost=4
    ),
    "driver-name-qualifier": dict(
        expression='device.attributes["dra.example.com"].name',
        driver="dra.example.com",
        attributes={"name": True},
        match=True,
        cost=4,
    ),
    "driver-name-qualifier-map-lookup": dict(
        expression='device.attributes["dra.example.com"]["name"]',
        driver="dra.example.com",
        attributes={"name": True},
        match=True,
        cost=4,
    ),
    "bind": dict(
        expression='cel.bind(dra, device.attributes["dra.example.com"], dra.name)',
        driver="dra.example.com",
        attributes={"name": True},
        match=True,
        cost=15,
    ),
    "qualified-attribute-name": dict(
        expression='device.attributes["other.example.com"].name',
        driver="dra.example.com",
        attributes={"other.example.com/name": True},
        match=True,
        cost=4,
    ),
    "bool": dict(
        expression='device.attributes["dra.example.com"].name',
        attributes={"name": True},
        driver="dra.example.com",
        match=True,
        cost=4,
    ),
    "int": dict(
        expression='device.attributes["dra.example.com"].name > 0',
        attributes={"name": 1},
        driver="dra.example.com",
        match=True,
        cost=5,
    ),
    "string": dict(
        expression='device.attributes["dra.example.com"].name == "fish"',
        attributes={"name": "fish"},
        driver="dra.example.com",
        match=True,
        cost=5,
    ),
    "macro-exists-on-int": dict(
        expression='device.attributes["dra.example.com"].name.exists(x, x > 0)',
        attributes={"name": 1},
        driver="dra.example.com",
        match_error="expected iterable type",
        cost=5 + (3 + 3) * M,
    ),
    "macro-exists-on-bool": dict(
        expression='device.attributes["dra.example.com"].name.exists(x, x == true)',
        attributes={"name": True},
        driver="dra.example.com",
        match_error="expected iterable type",
        cost=5 + (3 + 3) * M,
    ),
    "macro-exists-on-string": dict(
        expression='device.attributes["dra.example.com"].name.exists(x, x == "fish")',
        attributes={"name": "fish"},
        driver="dra.example.com",
        match_error="expected iterable type",
        cost=5 + (3 + 3) * M,
    ),
    "list-result-type-causes-match-error": dict(
        expression='device.attributes["dra.example.com"].names',
        attributes={"names": ["fish", "bird"]},
        driver="dra.example.com",
        match_error="CEL result of type list could not be converted to bool",
        cost=4,
    ),
    "includes-function-can-evaluate": dict(
        expression='device.attributes["dra.example.com"].name.includes("fish")',
        attributes={"name": ["fish", "bird"]},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "list-of-bool": dict(
        expression='device.attributes["dra.example.com"].names.size() == 2',
        attributes={"names": [True, False]},
        driver="dra.example.com",
        match=True,
        cost=6,
    ),
    "list-of-int": dict(
        expression='device.attributes["dra.example.com"].names.size() == 2',
        attributes={"names": [1, 2]},
        driver="dra.example.com",
        match=True,
        cost=6,
    ),
    "list-of-string": dict(
        expression='device.attributes["dra.example.com"].names.size() == 2',
        attributes={"names": ["fish", "bird"]},
        driver="dra.example.com",
        match=True,
        cost=6,
    ),
    "list-of-semver": dict(
        expression='device.attributes["dra.example.com"].names.size() == 2',
        attributes={"names": {"versionValues": ["1.0.0", "2.0.0"]}},
        driver="dra.example.com",
        match=True,
        cost=6,
    ),
    "macro-on-list-of-int": dict(
        expression='device.attributes["dra.example.com"].names.exists(x, x > 0)',
        attributes={"names": [1, 2]},
        driver="dra.example.com",
        match=True,
        cost=5 + (3 + 3) * M,
    ),
    "macro-on-list-of-string": dict(
        expression='device.attributes["dra.example.com"].names.all(x, x != "")',
        attributes={"names": ["fish", "bird"]},
        driver="dra.example.com",
        match=True,
        cost=5 + (2 + 2) * M,
    ),
    "macro-on-list-of-semver": dict(
        expression='device.attributes["dra.example.com"].names.all(x, x.isGreaterThan(semver("0.0.1")))',
        attributes={"names": {"versionValues": ["1.0.0", "2.0.0"]}},
        driver="dra.example.com",
        match=True,
        cost=5 + (2 + 4) * M,
    ),
    "includes-function-compilation-and-eval-success": dict(
        expression='device.attributes["dra.example.com"].attr.includes("fish")',
        attributes={"attr": "fish"},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "includes-function-on-bool-scalar-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes(true)',
        attributes={"name": True},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "includes-function-on-bool-scalar-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes(true)',
        attributes={"name": False},
        driver="dra.example.com",
        match=False,
        cost=4 + 48,
    ),
    "includes-function-on-bool-list-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes(true)',
        attributes={"name": [True, False]},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "includes-function-on-bool-list-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes(false)',
        attributes={"name": [True, True]},
        driver="dra.example.com",
        match=False,
        cost=4 + 48,
    ),
    "includes-function-on-int-scalar-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes(1)',
        attributes={"name": 1},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "includes-function-on-int-scalar-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes(1)',
        attributes={"name": 2},
        driver="dra.example.com",
        match=False,
        cost=4 + 48,
    ),
    "includes-function-on-int-list-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes(1)',
        attributes={"name": [1, 2]},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "includes-function-on-int-list-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes(3)',
        attributes={"name": [1, 2]},
        driver="dra.example.com",
        match=False,
        cost=4 + 48,
    ),
    "includes-function-on-string-scalar-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes("fish")',
        attributes={"name": "fish"},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "includes-function-on-string-scalar-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes("bird")',
        attributes={"name": "fish"},
        driver="dra.example.com",
        match=False,
        cost=4 + 48,
    ),
    "includes-function-on-string-list-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes("fish")',
        attributes={"name": ["fish", "bird"]},
        driver="dra.example.com",
        match=True,
        cost=4 + 48,
    ),
    "includes-function-on-string-list-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes("cat")',
        attributes={"name": ["fish", "bird"]},
        driver="dra.example.com",
        match=False,
        cost=4 + 48,
    ),
    "includes-function-on-semver-scalar-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes(semver("1.0.0"))',
        attributes={"name": (V, "1.0.0")},
        driver="dra.example.com",
        match=True,
        cost=4 + 48 + 1,
    ),
    "includes-function-on-semver-scalar-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes(semver("2.0.0"))',
        attributes={"name": (V, "1.0.0")},
        driver="dra.example.com",
        match=False,
        cost=4 + 48 + 1,
    ),
    "includes-function-on-semver-list-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes(semver("1.0.0"))',
        attributes={"name": {"versionValues": ["1.0.0", "2.0.0"]}},
        driver="dra.example.com",
        match=True,
        cost=4 + 48 + 1,
    ),
    "includes-function-on-semver-list-negative": dict(
        expression='device.attributes["dra.example.com"].name.includes(semver("3.0.0"))',
        attributes={"name": {"versionValues": ["1.0.0", "2.0.0"]}},
        driver="dra.example.com",
        match=False,
        cost=4 + 48 + 1,
    ),
    "includes-function-on-very-long-list-positive": dict(
        expression='device.attributes["dra.example.com"].name.includes("value-48")',
        attributes={"name": [f"value-{i}" for i in range(48)]},
        driver="dra.example.com",
        match=False,
        cost=4 + 48,
    ),
    "includes-function-on-very-long-list-runtime-error": dict(
        expression='device.attributes["dra.example.com"].name.includes("value-49")',
        attributes={"name": [f"value-{i}" for i in range(49)]},
        driver="dra.example.com",
        match_error="'includes' function cannot be applied to lists longer than 48 values",
        cost=4 + 48,
    ),
    "in-operator-on-list": dict(
        expression='1 in device.attributes["dra.example.com"].names',
        attributes={"names": [1, 2, 3]},
        driver="dra.example.com",
        match=True,
        cost=4 + 64,
    ),
    "version": dict(
        expression='device.attributes["dra.example.com"].name.isGreaterThan(semver("0.0.1"))',
        attributes={"name": (V, "1.0.0")},
        driver="dra.example.com",
        match=True,
        cost=6,
    ),
    "version_v": dict(
        expression='device.attributes["dra.example.com"].name.isGreaterThan(semver("v0.0.1", true)) && '
        'isSemver("v1.0.0", true)',
        attributes={"name": (V, "1.0.0")},
        driver="dra.example.com",
        match=True,
        cost=7,
    ),
    "macro-exists-on-version": dict(
        expression='device.attributes["dra.example.com"].name.exists(x, x.isGreaterThan(semver("0.0.1")))',
        attributes={"name": (V, "1.0.0")},
        driver="dra.example.com",
        match_error="expected iterable type",
        cost=5 + (3 + 4) * M,
    ),
    "quantity": dict(
        expression='device.capacity["dra.example.com"].name.isGreaterThan(quantity("1Ki"))',
        capacity={"name": "1Mi"},
        driver="dra.example.com",
        match=True,
        cost=6,
    ),
    "check-positive": dict(
        expression='"name" in device.capacity["dra.example.com"] && '
        'device.capacity["dra.example.com"].name.isGreaterThan(quantity("1Ki"))',
        capacity={"name": "1Mi"},
        driver="dra.example.com",
        match=True,
        cost=10,
    ),
    "check-negative": dict(
        expression='!("name" in device.capacity["dra.example.com"]) || '
        'device.capacity["dra.example.com"].name.isGreaterThan(quantity("1Ki"))',
        match=True,
        cost=11,
    ),
    "all": dict(
        expression="""
device.capacity["dra.example.com"].quantity.isGreaterThan(quantity("1Ki")) &&
device.attributes["dra.example.com"].bool &&
device.attributes["dra.example.com"].int > 0 &&
device.attributes["dra.example.com"].string == "fish" &&
device.attributes["dra.example.com"].version.isGreaterThan(semver("0.0.1")) &&
device.capacity["dra.example.com"]["quantity"].isGreaterThan(quantity("1Ki")) &&
device.attributes["dra.example.com"]["bool"] &&
device.attributes["dra.example.com"]["int"] > 0 &&
device.attributes["dra.example.com"]["string"] == "fish" &&
device.attributes["dra.example.com"]["version"].isGreaterThan(semver("0.0.1"))
""",
        attributes={"bool": True, "int": 1, "string": "fish", "version": (V, "1.0.0")},
        capacity={"quantity": "1Mi"},
        driver="dra.example.com",
        match=True,
        cost=52,
    ),
    "many": dict(
        expression='device.attributes["dra.example.com"].a && device.attributes["dra.example.com"].b && '
        'device.attributes["dra.example.com"].c',
        attributes={"a": True, "b": True, "c": True},
        driver="dra.example.com",
        match=True,
        cost=12,
    ),
    "check_attribute_domains": dict(
        expression='device.attributes.exists_one(x, x == "dra.example.com")',
        attributes={"services": "some_example_value"},
        driver="dra.example.com",
        match=True,
        cost=164,
    ),
    "check_attribute_ids": dict(
        expression='device.attributes["dra.example.com"].exists_one(x, x == "services")',
        attributes={"services": "some_example_value"},
        driver="dra.example.com",
        match=True,
        cost=133,
    ),
    "split_attribute": dict(
        expression='device.attributes["dra.example.com"].services.split("example").size() >= 2',
        attributes={"services": "some_example_value"},
        driver="dra.example.com",
        match=True,
        cost=19,
    ),
    "regexp_attribute": dict(
        expression='device.attributes["dra.example.com"].services.matches("[^a]?sym")',
        attributes={"services": "asymetric"},
        driver="dra.example.com",
        match=True,
        cost=18,
    ),
    "check_capacity_domains": dict(
        expression='device.capacity.exists_one(x, x == "dra.example.com")',
        capacity={"memory": "1Mi"},
        driver="dra.example.com",
        match=True,
        cost=164,
    ),
    "check_capacity_ids": dict(
        expression='device.capacity["dra.example.com"].exists_one(x, x == "memory")',
        capacity={"memory": "1Mi"},
        driver="dra.example.com",
        match=True,
        cost=133,
    ),
    # DRA compiles it (the estimate is computed, not refused) and the runtime stops it; the API
    # server refuses it at creation because 85555551 > CELSelectorExpressionMaxCost: so does rmctl
    "expensive": dict(
        expression="[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(y, "
        "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z2, "
        "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z4, "
        "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z5, int('1'.find('[0-9]*')) < 100)))))))",
        driver="dra.example.com",
        match_error="actual cost limit exceeded",
        cost=85555551,
    ),
    "allow_multiple_allocations": dict(
        expression="device.allowMultipleAllocations == true",
        allow_multiple_allocations=True,
        driver="dra.example.com",
        match=True,
        cost=3,
    ),
    "allow_multiple_allocations_default": dict(
        expression="device.allowMultipleAllocations == false", driver="dra.example.com", match=True, cost=3
    ),
    "allow_multiple_allocations_false": dict(
        expression="device.allowMultipleAllocations == false",
        allow_multiple_allocations=False,
        driver="dra.example.com",
        match=True,
        cost=3,
    ),
}
