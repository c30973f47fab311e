"""Image attachments through ChatKit's two-phase upload: create, upload, preview, delete."""
