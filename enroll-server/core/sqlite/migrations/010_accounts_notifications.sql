-- Owner accounts and notifications (docs/accounts.md): confirmed email addresses, single-use mailed
-- links, sign-in with OpenID Connect and GitHub, the domain-event outbox, the mail outbox,
-- notification choices, webhooks and their deliveries, and what the fleet watch has told people.

-- A key can be made only once the owner's address is confirmed. Owners from before this rule keep
-- making keys: their addresses count as confirmed.
ALTER TABLE owners ADD COLUMN email_verified_at INTEGER;
UPDATE owners SET email_verified_at = created_at;

-- An owner who signed in only through a provider holds an unusable password (a hash of random
-- bytes nobody knows, so that a password sign-in for them takes as long as any other) until they
-- choose one by a reset link.
ALTER TABLE owner_passwords ADD COLUMN usable INTEGER NOT NULL DEFAULT 1 CHECK (usable IN (0, 1));

-- Sessions may be opened by an OpenID Connect or GitHub sign-in: the table is rebuilt for its CHECK.
CREATE TABLE sessions_new (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  token_id TEXT NOT NULL REFERENCES api_tokens (id),
  csrf_token TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('token', 'password', 'signup', 'oidc')),
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER
);
INSERT INTO sessions_new (id, secret_hash, token_id, csrf_token, method, created_at, last_used_at, expires_at, ended_at)
  SELECT id, secret_hash, token_id, csrf_token, method, created_at, last_used_at, expires_at, ended_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Mailed links (confirm the address, reset the password). Only a SHA-256 of the token is stored;
-- the token itself is derived from the row id with the server's secret key when the mail is sent.
CREATE TABLE email_tokens (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES owners (id),
  purpose TEXT NOT NULL CHECK (purpose IN ('verify-email', 'password-reset')),
  token_hash TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX email_tokens_owner ON email_tokens (owner_id, purpose, created_at);

-- Accounts at OpenID Connect providers (and GitHub) linked to owners.
CREATE TABLE owner_identities (
  provider TEXT NOT NULL,
  subject TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES owners (id),
  email TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  PRIMARY KEY (provider, subject)
);
CREATE INDEX owner_identities_owner ON owner_identities (owner_id);

-- Domain events, appended in the transaction of the change they describe; the notifications
-- dispatcher turns each into mails and webhook deliveries, once.
CREATE TABLE domain_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  data TEXT NOT NULL,
  dispatched_at INTEGER
);
CREATE INDEX domain_events_pending ON domain_events (seq) WHERE dispatched_at IS NULL;

-- An owner's notification choices (JSON of kind → boolean) and offline threshold.
CREATE TABLE notification_preferences (
  owner_id TEXT PRIMARY KEY REFERENCES owners (id),
  choices TEXT NOT NULL,
  offline_minutes INTEGER NOT NULL CHECK (offline_minutes >= 5),
  updated_at INTEGER NOT NULL
);

-- Addresses that are not owners (ops) and unsubscribed from a category with one click.
CREATE TABLE mail_suppressions (
  address TEXT NOT NULL COLLATE NOCASE,
  category TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (address, category)
);

-- The mail outbox: a row per mail, claimed with a lease by the sender, sent once.
CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL,
  owner_id TEXT REFERENCES owners (id),
  to_address TEXT NOT NULL,
  template TEXT NOT NULL,
  params TEXT NOT NULL,
  category TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  last_error TEXT,
  sent_at INTEGER,
  UNIQUE (event_id, to_address, template)
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'queued';

-- Webhooks. The signing secret is kept sealed (AES-256-GCM under the server's secret key): it must
-- be usable to sign, so it cannot be hashed; it is shown to its creator once.
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret_sealed TEXT NOT NULL,
  owner_id TEXT REFERENCES owners (id),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE INDEX webhooks_owner ON webhooks (owner_id);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks (id),
  event_id TEXT NOT NULL,
  event TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  last_status INTEGER,
  last_error TEXT,
  delivered_at INTEGER,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status INTEGER,
  error TEXT,
  PRIMARY KEY (delivery_id, attempt)
);

-- The fleet watch: a machine whose owner was told it is offline (and not yet that it is back),
-- and pending machines ops were told about.
CREATE TABLE offline_notices (
  node_id TEXT PRIMARY KEY REFERENCES nodes (id),
  offline_since INTEGER NOT NULL,
  notified_at INTEGER NOT NULL
);

CREATE TABLE pending_alerts (
  node_id TEXT PRIMARY KEY REFERENCES nodes (id),
  alerted_at INTEGER NOT NULL
);
