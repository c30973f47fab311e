"""PostgreSQL access shared by the gateway and the workers: the pool and the schema migrations."""
