"""cel-go's bindings extension tests (cel.bind), transcribed.

Source: google/cel-go ext/bindings_test.go at 6cc3d4703c48a6a08106730aa0712d5f182b1621
(``bindingTests``: each expression must evaluate to true; ``TestBindingsNonMatch``,
``TestBindingsInvalidIdent``). DRA enables ``ext.Bindings(ext.BindingsVersion(0))``
(dynamic-resource-allocation/cel/compile.go).
"""

OPTIMIZE = False  # the file builds programs without cel.OptOptimize

SOURCE = {
    "repo": "google/cel-go",
    "path": "ext/bindings_test.go",
    "version": "6cc3d4703c48a6a08106730aa0712d5f182b1621",
}

CASES = {
    "bind/join": dict(
        expr="cel.bind(a, 'hell' + 'o' + '!', [a, a, a].join(', ')) == \n"
        "\t        ['hell' + 'o' + '!', 'hell' + 'o' + '!', 'hell' + 'o' + '!'].join(', ')",
        compile_error="exceeds the limit",
        cluster="join() on a list literal: the cluster cannot bound its elements' size (Kubernetes' "
        "library/cost.go) and refuses the selector for its estimated cost",
    ),
    "bind/shadowing": dict(
        expr="cel.bind(a, \n\t\t        cel.bind(a, 'world', a + '!'), \n\t\t   \t\t'hello ' + a) == "
        "'hello ' + 'world' + '!'"
    ),
    # TestBindingsNonMatch: not the macro; in an environment without such a function, undeclared
    "non_match": dict(
        expr="ceel.bind(a, 1, a)",
        compile_error="undeclared reference",
        cluster="the file checks only that the parser does not expand it; checked in DRA's environment, "
        "ceel.bind is an undeclared function",
    ),
    # TestBindingsInvalidIdent
    "invalid_ident": dict(
        expr="cel.bind(a.b, 1, a.b)", compile_error="cel.bind() variable names must be simple identifers"
    ),
}

SKIPPED: dict[str, str] = {}
