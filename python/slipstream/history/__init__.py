"""Reading what a store holds (`ss.open`): flows, their versions and runs, newest first, each
run merged from its files and drawn with the structure of the version it ran.

Imports `records` and `spec` only.
"""
