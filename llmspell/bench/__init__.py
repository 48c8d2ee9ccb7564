"""Benchmarks: `python -m llmspell.bench startup` (more suites join as the gateway grows).

Figures are printed with a baseline measured in the same run, because only ratios survive a
change of machine or load.
"""
