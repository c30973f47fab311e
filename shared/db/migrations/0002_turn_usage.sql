-- Tokens used per turn (one row per turn that called the model), for per-user accounting.
CREATE TABLE turn_usage (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       text        NOT NULL,
    thread_id     text        NOT NULL,
    turn_id       text,
    model         text        NOT NULL,
    requests      integer     NOT NULL,
    input_tokens  integer     NOT NULL,
    output_tokens integer     NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX turn_usage_user_created ON turn_usage (user_id, created_at);
CREATE INDEX turn_usage_turn ON turn_usage (turn_id);
