-- Failed attempts per key (sign-in, enrollment keys, reset links) in fixed windows, shared by
-- every process on the database (core/attempt-repository.ts).
CREATE TABLE attempt_counters (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  reset_at INTEGER NOT NULL
);
CREATE INDEX attempt_counters_reset ON attempt_counters (reset_at);
