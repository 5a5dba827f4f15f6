DROP INDEX users_active_idx;

ALTER TABLE users DROP COLUMN last_login_at;
