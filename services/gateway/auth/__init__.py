"""Authentication: verifying tokens (HS256 secret, PEM public key or JWKS), finding them in a
Bearer header or a cookie, and holding cookie requests to the allowed origins."""
