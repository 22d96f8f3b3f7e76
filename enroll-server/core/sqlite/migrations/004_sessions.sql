-- Dashboard sign-in: owners' passwords and cookie sessions.
-- A session authenticates exactly like the API token it was opened with (revoking the token ends it).
-- A password sign-in opens its session on the owner's own dashboard token, which is never shown.

CREATE TABLE owner_passwords (
  owner_id TEXT PRIMARY KEY REFERENCES owners (id),
  password_hash TEXT NOT NULL,
  token_id TEXT NOT NULL REFERENCES api_tokens (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  token_id TEXT NOT NULL REFERENCES api_tokens (id),
  csrf_token TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('token', 'password', 'signup')),
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
