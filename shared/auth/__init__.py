"""Token verification keys shared by the gateway and the settings check."""
