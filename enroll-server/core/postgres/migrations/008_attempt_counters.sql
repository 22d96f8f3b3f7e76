-- Failed attempts per key (sign-in, enrollment keys, reset links) in fixed windows, shared by
-- every replica (core/attempt-repository.ts; SQLite's 014).
CREATE TABLE attempt_counters (
  key text COLLATE "C" PRIMARY KEY,
  count integer NOT NULL,
  reset_at bigint NOT NULL
);
CREATE INDEX attempt_counters_reset ON attempt_counters (reset_at);
