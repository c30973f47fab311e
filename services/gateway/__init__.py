"""HTTP gateway: authenticates ChatKit requests, answers reads from Postgres, relays turns."""
