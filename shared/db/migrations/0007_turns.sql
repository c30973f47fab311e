-- One row per turn a worker started: what became of it. A turn whose worker died is marked
-- `failed` by the gateway that noticed, so the record never claims a dead turn is running.
CREATE TABLE turns (
    turn_id     text        PRIMARY KEY,
    user_id     text        NOT NULL,
    thread_id   text,
    status      text        NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    error       text,
    queued_at   timestamptz NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE INDEX turns_user_started ON turns (user_id, started_at);
CREATE INDEX turns_running ON turns (started_at) WHERE status = 'running';

-- Row-level security like every user-owned table (see 0005). The records are written by the
-- workers and gateways themselves, not in a user's transaction; the policy guards any read made
-- on a user's behalf.
GRANT SELECT, INSERT, UPDATE, DELETE ON turns TO taskchat_app;
ALTER TABLE turns ENABLE ROW LEVEL SECURITY;
CREATE POLICY turns_owner ON turns TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));
