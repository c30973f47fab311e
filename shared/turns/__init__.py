"""A turn: one streaming ChatKit request, queued by the gateway and run by an agent worker."""
