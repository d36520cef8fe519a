-- Campaign lifecycle (issue 12): edits and closing of a campaign, cancelled pledges (who and
-- when), and the one-time codes that confirm a donor's mobile at sign-up. Keep in step with
-- ../postgres/0016_campaign_lifecycle.sql.

ALTER TABLE campaigns ADD COLUMN updated_at INTEGER;
ALTER TABLE campaigns ADD COLUMN closed_at INTEGER;
ALTER TABLE campaigns ADD COLUMN closed_by INTEGER REFERENCES users (id);

ALTER TABLE pledges ADD COLUMN cancelled_at INTEGER;
ALTER TABLE pledges ADD COLUMN cancelled_by INTEGER REFERENCES users (id);

-- A sign-up waiting for its code: one row per mobile (a new code replaces the old one). The
-- code itself is never stored: code_hash is HMAC-SHA-256 of the mobile and the code under the
-- server's key. Valid until expires_at; tries counts wrong codes (5 at most); the row goes when
-- the donor is created.
CREATE TABLE donor_signup_codes (
    mobile TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
