"""kcb: the Python side of ./kcovbench (stdlib only).

The C binary measures; this package builds it, checks arguments, stores
results atomically and turns Google Benchmark's JSON into tables, A/B
verdicts and plots.  One module per subcommand (cmd_*.py), listed in cli.py.
"""
