"""`make bench`: throughput figures, each beside a baseline measured in the same run.

Each area has a module `bench_<area>.py` with `run(report)`; `python -m tests.bench [area ...]`
runs them in order (the event log first) and prints one `BENCH` line per figure.
"""
