-- Initial schema: ChatKit threads, items, attachments and feedback, plus the user's tasks.
-- Every row carries user_id so each query can be scoped to the caller without a join.

CREATE TABLE threads (
    id         text PRIMARY KEY,
    user_id    text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    title      text NULL,
    data       jsonb NOT NULL  -- chatkit ThreadMetadata as JSON
);
-- Keyset pagination of a user's threads by (created_at, id); id DESC too, so both page orders
-- are a plain forward or backward scan of this index.
CREATE INDEX threads_user_created_idx ON threads (user_id, created_at DESC, id DESC);

CREATE TABLE thread_items (
    -- Insertion order: created_at comes from the client clock and may tie; seq never does.
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    id         text PRIMARY KEY,
    thread_id  text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    user_id    text NOT NULL,
    type       text NOT NULL,
    created_at timestamptz NOT NULL,
    data       jsonb NOT NULL  -- chatkit ThreadItem as JSON
);
CREATE INDEX thread_items_thread_seq_idx ON thread_items (thread_id, seq);

CREATE TABLE attachments (
    id         text PRIMARY KEY,
    user_id    text NOT NULL,
    -- NULL while uploaded but not yet sent in a message.
    thread_id  text NULL REFERENCES threads (id) ON DELETE CASCADE,
    mime_type  text NOT NULL,
    name       text NOT NULL,
    data       jsonb NOT NULL,  -- chatkit Attachment as JSON
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_thread_idx ON attachments (thread_id);

CREATE TABLE feedback (
    thread_id  text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    item_id    text NOT NULL REFERENCES thread_items (id) ON DELETE CASCADE,
    user_id    text NOT NULL,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, item_id, user_id)
);
CREATE INDEX feedback_item_idx ON feedback (item_id);

CREATE TABLE tasks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text NOT NULL,
    title       text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 255),
    description text NULL CHECK (char_length(description) <= 2000),
    completed   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_user_id_idx ON tasks (user_id, id);
