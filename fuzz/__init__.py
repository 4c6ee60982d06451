"""Fuzzing RouteQL: targets (rule text, conditions, event lines and objects, consent
signals, fmt) checked against one contract, with two engines (Hypothesis, atheris).

Run ``python -m fuzz --seconds 300`` (``make fuzz FUZZ_SECONDS=300``); ``--help`` says more.
The contract and the time bound are in :mod:`fuzz.harness`; docs/security.md explains why.
"""
