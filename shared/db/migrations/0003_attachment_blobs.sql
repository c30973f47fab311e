-- Bytes of uploaded attachments (ATTACHMENT_STORAGE=postgres); they go with their attachment.
CREATE TABLE attachment_blobs (
    attachment_id text PRIMARY KEY REFERENCES attachments (id) ON DELETE CASCADE,
    user_id       text        NOT NULL,
    bytes         bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
