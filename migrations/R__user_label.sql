-- How the application shows a user: the full name where there is one,
-- else the email.
CREATE FUNCTION user_label(u users) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(u.full_name, ''), u.email)
$$;
