"""Stored values as Python types: frames handed back to the library they came from, or to
the one an op's type hint asks for. The native store calls `frames.restore` on every frame
it reads, so this sits at the very bottom: it imports nothing of slipstream but its
exceptions (`slipstream.errors`, which imports nothing).
"""
