"""`GET /`: the development page, and the browser modules it (and the web package) share."""
