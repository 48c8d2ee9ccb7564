"""Benchmarks: `python -m llmspell.bench startup|ready|gateway|proxy` (README: Benchmarks).

Figures are printed with a baseline measured in the same run, because only ratios survive a
change of machine or load.
"""
