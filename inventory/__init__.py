"""The system of record: SQLModel tables (``models``), Alembic migrations, the records collectors hand in
(``records``), the writers that store them with provenance and audit (``writers``), the read views
(``views``), settings, the clock, the cost model and the one definition of capacity."""
