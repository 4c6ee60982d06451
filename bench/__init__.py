"""RouteQL's benchmark suite: one workload and one rule IR, measured against every alternative.

See docs/benchmarks.md.  ``make bench`` runs ``bench/test_bench_*.py`` and rewrites
``bench/RESULTS.md`` with :mod:`bench.report`.
"""
