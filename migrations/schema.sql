-- The schema the migrations build, as stowage's test helper read it from a new
-- database it applied them to. Write it again with `STOWAGE_UPDATE_SCHEMA=1
-- cargo test`, and review it with the migration that changes it. Objects in the
-- schema the migrations run in are named without it; owners, the objects of
-- extensions and stowage's own tables are left out, and so are grants.
-- stowage:digest 2b48546bc1776471df60f240c0070f9c2db1e9a1b52ca3695487ecc8a8fbd597

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');

CREATE OR REPLACE FUNCTION touch_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    -- A statement-level semicolon inside the body; the body is one string.
    NEW.updated_at := now();
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION user_label(u users)
 RETURNS text
 LANGUAGE sql
 STABLE
AS $function$
    SELECT coalesce(nullif(u.full_name, ''), u.email)
$function$;

CREATE TABLE accounts (
    id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    plan text NOT NULL DEFAULT 'free'::text,
    created_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_plan_check CHECK ((plan = ANY (ARRAY['free'::text, 'team'::text, 'enterprise'::text])));

CREATE TABLE orders (
    id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    status order_status NOT NULL DEFAULT 'pending'::order_status,
    total_cents bigint NOT NULL,
    placed_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
ALTER TABLE orders ADD CONSTRAINT orders_total_cents_check CHECK ((total_cents >= 0));
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
CREATE INDEX orders_user_id_placed_at_idx ON orders USING btree (user_id, placed_at DESC);
CREATE TRIGGER orders_touch_updated_at BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE users (
    id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    account_id bigint NOT NULL,
    email text NOT NULL,
    full_name text,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    last_login_at timestamp with time zone
);
ALTER TABLE users ADD CONSTRAINT users_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
CREATE INDEX users_active_idx ON users USING btree (account_id) WHERE (NOT disabled);
CREATE UNIQUE INDEX users_email_key ON users USING btree (lower(email));

CREATE VIEW account_revenue AS
 SELECT a.id AS account_id,
    a.name AS account_name,
    count(o.id) AS paid_orders,
    COALESCE(sum(o.total_cents), 0::numeric) AS revenue_cents
   FROM accounts a
     LEFT JOIN users u ON u.account_id = a.id
     LEFT JOIN orders o ON o.user_id = u.id AND (o.status = ANY (ARRAY['paid'::order_status, 'shipped'::order_status]))
  GROUP BY a.id, a.name;

CREATE VIEW account_summary AS
 SELECT a.id AS account_id,
    a.name AS account_name,
    a.plan,
    count(u.id) AS users,
    count(u.id) FILTER (WHERE u.created_at > (now() - '30 days'::interval)) AS new_users,
    r.revenue_cents
   FROM accounts a
     JOIN account_revenue r ON r.account_id = a.id
     LEFT JOIN users u ON u.account_id = a.id AND NOT u.disabled
  GROUP BY a.id, a.name, a.plan, r.revenue_cents;

COMMENT ON VIEW account_summary IS 'Users, new users and revenue of each account.';
