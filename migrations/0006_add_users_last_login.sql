ALTER TABLE users ADD COLUMN last_login_at timestamptz;

CREATE INDEX users_active_idx ON users (account_id) WHERE NOT disabled;
