"""The load benchmark (tools/bench_load.py, ``tox -e bench-load``)."""
