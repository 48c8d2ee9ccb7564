"""Benchmarks: `python -m llmspell.bench startup|ready|gateway|proxy|pipeline` (README:
Benchmarks).

Figures are printed with a baseline measured in the same run, because only ratios survive a
change of machine or load.
"""
