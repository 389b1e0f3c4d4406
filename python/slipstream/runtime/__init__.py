"""Running ops: one attempt of one op (`attempt.run_op`), its inputs and function resolved
from a spec (`execute`), a whole version run here op by op (`local`), what metrics and checks
return (`outcomes`), previews, warehouse access and memory figures.

Imports `history`, `records` and `spec`; never `authoring`, `airflow` or `cli`.
"""
