"""Attribute names in selectors and constraints, checked against what rmctl publishes (issue 11 finding 9).

The CEL checker (rmctl/resources/cel/checker.py) already refuses a lookup
of a name rmctl does not publish in one of its own domains
(``device.attributes["rmctl.io"].produtName``).  Two spellings get past
it, both legal CEL and legal DRA, both certainly mistakes:

* a presence test of such a name, ``"produtName" in
  device.attributes["rmctl.io"]``: always false on every rmctl device, so
  the class silently matches nothing (or, negated, everything).  Only rmctl
  publishes its declared domains, so this is an error, with a
  did-you-mean, like the lookup;
* a domain one typo away from a declared one (``rmctl.oi``): another
  driver could publish any domain, so this is only a warning, from
  ``class validate``.

A request's ``matchAttribute`` names an attribute too (``DOMAIN/NAME``):
a name rmctl does not publish in its declared domain is refused the same
way when the request loads.  The declared names are
:func:`rmctl.resources.cel.known_attributes` (docs/devices.md).
"""

from __future__ import annotations

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

#: how close a domain must be to a declared one to be called a typo (rmctl.oi ~ rmctl.io: 0.875)
DOMAIN_CUTOFF = 0.8


def _declared() -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, ...]]]:
    from rmctl.resources.cel import DEFAULT_SCHEMA

    return DEFAULT_SCHEMA.known_attributes(), DEFAULT_SCHEMA.known_capacity()


def _hint(name: str, names, domain: str, what: str) -> str:
    import difflib  # here: only a misspelt name needs it (issue 14: request evaluate's start-up)

    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return (f"did you mean '{close[0]}'? " if close else "") + \
        f"rmctl publishes {what} {', '.join(sorted(names))} in {domain} (docs/devices.md)"


def presence_errors(compiled: Any, where: str) -> list:
    """Return a CelError for each ``"NAME" in device.attributes|capacity["DOMAIN"]`` naming what rmctl
    does not publish in a domain it declares."""
    from rmctl.resources.cel.errors import CelCheckError
    from rmctl.resources.cel.selector import to_cel_error
    from rmctl.resources.cel.syntax import Call, Const, Ident, Select

    attrs, caps = _declared()
    out = []
    source = compiled.source
    stack = [compiled.checked.parsed.expr]
    seen = 0
    while stack and seen < 100_000:  # the parser bounds an expression's size; this only guards the walk
        e = stack.pop()
        seen += 1
        if isinstance(e, Call) and e.function == "@in" and len(e.args) == 2:
            key, coll = e.args
            if (isinstance(key, Const) and isinstance(key.value, str) and isinstance(coll, Call)
                    and coll.function in ("_[_]", "_[?_]") and len(coll.args) == 2
                    and isinstance(coll.args[0], Select) and isinstance(coll.args[0].operand, Ident)
                    and coll.args[0].operand.name == "device" and isinstance(coll.args[1], Const)):
                what, domain = coll.args[0].field, coll.args[1].value
                declared = attrs.get(domain) if what == "attributes" else (
                    caps.get(domain) if what == "capacity" else None)
                if declared is not None and key.value not in declared:
                    one = "attribute" if what == "attributes" else "capacity"
                    x = CelCheckError(f"'{key.value}' is not {'an' if one == 'attribute' else 'a'} {one} rmctl publishes in domain \"{domain}\": "
                                      "the test is false on every device", source, key.pos)
                    x.hint = _hint(key.value, declared, domain, "attributes" if one == "attribute" else "capacities")
                    out.append(to_cel_error(x, where))
        for name in ("args", "target", "operand", "elements", "entries", "iter_range", "accu_init",
                     "loop_cond", "loop_step", "result", "key", "value"):
            v = getattr(e, name, None)
            if isinstance(v, list):
                stack.extend(x for x in v if x is not None and not isinstance(x, (str, int)))
            elif v is not None and hasattr(v, "__slots__") and not isinstance(v, (str, int)):
                stack.append(v)
    return out


def domain_warnings(compiled: Any, where: str) -> list[str]:
    """Return a warning for each looked-up domain one typo away from a domain rmctl declares."""
    attrs, caps = _declared()
    out = []
    for kind, domain, name in compiled.checked.references:
        declared = attrs if kind == "attributes" else caps
        if domain in declared:
            continue
        import difflib

        close = difflib.get_close_matches(domain, list(declared), n=1, cutoff=DOMAIN_CUTOFF)
        if close:
            msg = (f"{where}: domain \"{domain}\" ({kind} '{name}') is not one rmctl publishes; did you mean "
                   f"\"{close[0]}\"? (another driver may publish it: then ignore this)")
            if msg not in out:
                out.append(msg)
    return out


def match_attribute_problem(attribute: str) -> str | None:
    """Return why ``DOMAIN/NAME`` (a matchAttribute) names nothing rmctl publishes in a declared domain, or None."""
    attrs, _ = _declared()
    domain, _, name = attribute.rpartition("/")
    if not domain or domain not in attrs or name in attrs[domain]:
        return None
    return f"rmctl publishes no attribute '{name}' in domain \"{domain}\"; " + _hint(name, attrs[domain], domain,
                                                                                        "attributes")
