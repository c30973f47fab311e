"""Image attachments: what is accepted, and where the bytes are kept."""
