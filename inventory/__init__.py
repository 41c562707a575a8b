"""The system of record: SQLModel tables, migrations, import writer, cost model and audit log."""
