"""Writing flows: the `@op`/`@metric`/`@check` decorators and the graph they build
(`graph`), flows, their specs and version ids (`flow`), and SQL extract/publish ops (`sql`).

The top of the SDK beside `cli`: `Flow.run` and `Flow.to_airflow` reach down into `runtime`
and `airflow`; nothing below imports `authoring`.
"""
