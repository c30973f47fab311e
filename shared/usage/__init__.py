"""Token accounting per turn and per user."""
