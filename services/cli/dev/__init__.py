"""`taskchat dev`: the whole system on one machine, with embedded PostgreSQL/Redis when needed."""
