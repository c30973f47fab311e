"""ChatKit persistence: the Postgres-backed `Store` shared by the gateway and the workers."""
