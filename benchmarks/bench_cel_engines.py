"""Compare CEL engines for device selectors: import, compile and evaluation time.

Run it with the interpreter of a venv that has the engine installed:

    python benchmarks/bench_cel_engines.py rmctl        # rmctl.resources.cel (this repo)
    /tmp/v/bin/python benchmarks/bench_cel_engines.py celpy        # cel-python
    /tmp/v/bin/python benchmarks/bench_cel_engines.py cel-expr-python
    /tmp/v/bin/python benchmarks/bench_cel_engines.py common-expression-language

Each number is the median of fresh interpreters (import) or of repeated runs
(compile, evaluate).  The selector is the one a class of GPUs with 80 GiB
of memory would use; the device is an H200 as rmctl publishes it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

SELECTOR = ('device.driver == "nvidia" && device.attributes["rmctl.io"].kind == "gpu" && '
            'device.attributes["rmctl.io"].vendor == "0x10de"')
DEVICE = {"driver": "nvidia",
          "attributes": {"rmctl.io": {"kind": "gpu", "vendor": "0x10de", "numaNode": 0}},
          "capacity": {}}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

IMPORTS = {
    "rmctl": "import rmctl.resources.cel as m; m.compile_selector('true')",
    "celpy": "import celpy; celpy.Environment().compile('true')",
    "cel-expr-python": "from cel_expr_python import cel; cel.NewEnv(variables={'device': cel.Type.DYN}).compile('true')",
    "common-expression-language": "import cel; cel.compile('true')",
}


def one_run(engine: str) -> float:
    code = f"import time; t=time.perf_counter(); {IMPORTS[engine]}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def compiler(engine: str):
    if engine == "rmctl":
        sys.path.insert(0, REPO)
        from rmctl.resources.cel import compile_selector, device_activation
        from rmctl.resources.cel import selector as sel_mod

        act = device_activation("nvidia", {"rmctl.io/kind": "gpu", "rmctl.io/vendor": "0x10de",
                                           "rmctl.io/numaNode": 0}, {})
        def compile_uncached():
            sel_mod._COMPILED.clear()  # measure the compile, not rmctl's per-process cache
            sel_mod._PROGRAMS.clear()
            return compile_selector(SELECTOR)

        return compile_uncached, (lambda p: p.evaluate(act).value)
    if engine == "celpy":
        import celpy
        from celpy import json_to_cel

        env = celpy.Environment()
        act = {"device": json_to_cel(DEVICE)}
        return (lambda: env.program(env.compile(SELECTOR))), (lambda p: p.evaluate(act))
    if engine == "cel-expr-python":
        from cel_expr_python import cel

        T = cel.Type
        attr = T.Map(T.STRING, T.Map(T.STRING, T.DYN))
        env = cel.NewEnv(variables={"device": T.Map(T.STRING, T.DYN)})
        _ = attr
        return (lambda: env.compile(SELECTOR)), (lambda p: p.eval(data={"device": DEVICE}).value())
    if engine == "common-expression-language":
        import cel

        return (lambda: cel.compile(SELECTOR)), (lambda p: p.execute({"device": DEVICE}))
    raise SystemExit(f"unknown engine {engine}")


def timed(fn, n: int) -> float:
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t) / n)
    return statistics.median(samples)


def main() -> None:
    engine = sys.argv[1] if len(sys.argv) > 1 else "rmctl"
    imp = statistics.median(one_run(engine) for _ in range(5))
    compile_fn, eval_fn = compiler(engine)
    prog = compile_fn()
    assert eval_fn(prog) in (True,), eval_fn(prog)
    comp = timed(compile_fn, 200)
    ev = timed(lambda: eval_fn(prog), 2000)
    print(json.dumps({"engine": engine, "import_and_first_compile_ms": round(imp * 1e3, 1),
                      "compile_us": round(comp * 1e6, 1), "evaluate_us": round(ev * 1e6, 2)}))


if __name__ == "__main__":
    main()
