-- One row per account: its users, those who joined in the last 30 days,
-- and what it paid. A repeatable migration: edit it in place, and the next
-- run replaces the view.
CREATE VIEW account_summary AS
SELECT a.id                  AS account_id,
       a.name                AS account_name,
       a.plan,
       count(u.id)           AS users,
       count(u.id) FILTER (WHERE u.created_at > now() - interval '30 days') AS new_users,
       r.revenue_cents
FROM accounts a
JOIN account_revenue r ON r.account_id = a.id
LEFT JOIN users u      ON u.account_id = a.id AND NOT u.disabled
GROUP BY a.id, a.name, a.plan, r.revenue_cents;

COMMENT ON VIEW account_summary IS 'Users, new users and revenue of each account.';
