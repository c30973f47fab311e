"""Authentication: who is calling, from an HS256 JWT in a cookie or a Bearer header."""
