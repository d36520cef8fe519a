-- Sign-in limits kept in the database (issue: login limits), so every process that shares the
-- database sees one count. Keep in step with ../postgres/0010_login.sql.
--
-- login_accounts: one row per username tried (known or not, so an unknown name is throttled
-- exactly like a known one). failures counts attempts reserved before their password check and
-- not followed by a success; wait_until is the instant from which the next attempt may be
-- checked; last_attempt_at lets old failures be forgotten.
CREATE TABLE login_accounts (
    subject TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    wait_until INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL
);

-- login_failures: the same failures by the address they came from, so a right password forgets
-- only its own address's failures and leaves an attacker's (elsewhere) counted.
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    PRIMARY KEY (subject, client_addr)
);

-- rate_windows: fixed windows of attempts per client address and purpose
-- ('login:ADDR', 'signup:ADDR').
CREATE TABLE rate_windows (
    subject TEXT PRIMARY KEY NOT NULL,
    hits INTEGER NOT NULL,
    window_start INTEGER NOT NULL
);

-- The old hard lock (users.failed_logins, users.locked_until) is no longer used: lift it.
UPDATE users SET failed_logins = 0, locked_until = NULL;
