"""Limits on selectors, like the cluster's (k8s.io/api/resource/v1/types.go, cel-go defaults).

Every number here is documented in docs/cel.md and docs/security.md.
"""

#: resourceapi.CELSelectorExpressionMaxCost: the cost budget of one evaluation,
#: also the most a selector's *estimated* worst case may cost at load
MAX_COST = 1_000_000

#: resourceapi.CELSelectorExpressionMaxLength: 10 Ki characters
MAX_EXPRESSION_LENGTH = 10 * 1024

#: nesting of parentheses, calls, lists, maps, unary operators and member
#: chains; cel-go's parser stops at 250 (parser.MaxRecursionDepth default)
MAX_NESTING = 250

#: wall-clock guard per evaluation of one selector on one device, in seconds.
#: DRA has none (Go evaluates the cost budget in milliseconds); a Python
#: evaluator may need seconds for the same budget, so time is bounded too.
MAX_EVAL_SECONDS = 0.5

#: how often (in cost units) the evaluator looks at the clock
CLOCK_CHECK_EVERY = 1000

#: cel-go common/cost.go
SELECT_AND_IDENT_COST = 1
CONST_COST = 0
LIST_CREATE_BASE_COST = 10
MAP_CREATE_BASE_COST = 30
STRING_TRAVERSAL_COST_FACTOR = 0.1
REGEX_STRING_LENGTH_COST_FACTOR = 0.25

#: DRA's size bounds of a device (k8s.io/api/resource/v1/types.go), used by
#: the cost estimator as DRA's sizeEstimator does (dynamic-resource-allocation/cel/compile.go)
DEVICE_MAX_DOMAIN_LENGTH = 63
DEVICE_MAX_ID_LENGTH = 32
DRIVER_NAME_MAX_LENGTH = 63
DEVICE_ATTRIBUTE_MAX_VALUE_LENGTH = 64
RESOURCE_SLICE_MAX_ATTRIBUTE_VALUES_PER_DEVICE = 48
RESOURCE_SLICE_MAX_ATTRIBUTES_AND_CAPACITIES_PER_DEVICE = 32
#: an attribute may be a scalar or (DRAListTypeAttributes) a list: its size
#: bound is the larger of the two (compile_test.go maxElementsListTypeEnabled)
ATTRIBUTE_MAX_ELEMENTS = max(DEVICE_ATTRIBUTE_MAX_VALUE_LENGTH, RESOURCE_SLICE_MAX_ATTRIBUTE_VALUES_PER_DEVICE)

#: the largest string or list one evaluation may build (a guard under the cost budget)
MAX_VALUE_SIZE = 1 << 20
