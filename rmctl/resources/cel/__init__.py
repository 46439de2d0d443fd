"""CEL for device selectors, in DRA's dialect, over cel-python (``celpy``).

Variables are the ones DRA gives a DeviceClass or a request selector
(kubernetes staging/src/k8s.io/dynamic-resource-allocation/cel/compile.go):

* ``device.driver``: the driver name (rmctl: the kernel driver bound, or "");
* ``device.attributes["domain"].name``: typed attributes by qualified name;
* ``device.capacity["domain"].name``: capacities, always Kubernetes quantities.

Looking up a domain no device publishes gives an empty map (as in DRA), so
``"memory" in device.capacity["rmctl.io"]`` is a safe guard; looking up a
missing name in it is an evaluation error, reported for that device only.

``quantity()`` follows k8s.io/apiserver/pkg/cel/library/quantity.go and
k8s.io/apimachinery/pkg/api/resource: exact arithmetic, so ``1Gi`` is
1073741824 and ``1G`` is 1000000000 and the two never compare equal.
``semver()`` follows the DRA semver library (blang/semver rules).

Compile once (:func:`compile_selector`), evaluate per device
(:meth:`Selector.evaluate`), which never raises for a device's data.
celpy is imported here only, so only class/request commands pay for it.
"""

from rmctl.resources.cel.activation import device_activation, split_qualified
from rmctl.resources.cel.quantity import CelError, Quantity, parse_quantity
from rmctl.resources.cel.selector import Outcome, Selector, compile_selector, describe_eval_error
from rmctl.resources.cel.semver import Semver, normalize_semver

__all__ = ["CelError", "Outcome", "Quantity", "Selector", "Semver", "compile_selector", "describe_eval_error",
           "device_activation", "normalize_semver", "parse_quantity", "split_qualified"]
