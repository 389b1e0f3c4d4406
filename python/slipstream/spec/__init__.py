"""What goes into a flow spec besides its graph: the code of each op (captured from scripts,
imported from modules, hashed) and the plain values of constants and param defaults.

The bottom layer of the SDK: it imports nothing of slipstream but `errors`.
"""
