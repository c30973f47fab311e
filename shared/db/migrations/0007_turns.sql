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
