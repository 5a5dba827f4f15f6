CREATE VIEW account_revenue AS
SELECT a.id            AS account_id,
       a.name          AS account_name,
       count(o.id)     AS paid_orders,
       coalesce(sum(o.total_cents), 0) AS revenue_cents
FROM accounts a
LEFT JOIN users u  ON u.account_id = a.id
LEFT JOIN orders o ON o.user_id = u.id AND o.status IN ('paid', 'shipped')
GROUP BY a.id, a.name;
