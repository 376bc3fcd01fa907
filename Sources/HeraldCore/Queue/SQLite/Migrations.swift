import GRDB

/// The queue's schema, one named migration per shipped change.
///
/// A migration that has shipped is never edited: GRDB records the names it applied, and an
/// operator's database only ever moves forward. Change the schema by appending a migration.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-messages-and-attempts") { db in
            try db.execute(sql: """
                CREATE TABLE messages (
                    id            INTEGER PRIMARY KEY,
                    key           TEXT UNIQUE,
                    channel       TEXT NOT NULL,
                    template      TEXT NOT NULL,
                    recipient     TEXT NOT NULL,          -- the message's "to", JSON
                    data          TEXT NOT NULL,          -- the message's "data", JSON
                    category      TEXT NOT NULL,
                    campaign      TEXT,
                    state         TEXT NOT NULL,          -- queued | leased | sent | failed | suppressed | canceled
                    due_at        INTEGER NOT NULL,       -- unix milliseconds
                    created_at    INTEGER NOT NULL,
                    updated_at    INTEGER NOT NULL,
                    attempts      INTEGER NOT NULL DEFAULT 0,
                    lease_owner   TEXT,
                    lease_until   INTEGER,
                    last_error_code TEXT,
                    last_error    TEXT
                ) STRICT;

                -- Claiming walks this index in due order and stops at LIMIT, so its cost does not
                -- grow with the number of messages already sent or failed.
                CREATE INDEX messages_due ON messages(due_at, id) WHERE state = 'queued';
                CREATE INDEX messages_lease ON messages(lease_until) WHERE state = 'leased';
                CREATE INDEX messages_state_channel ON messages(state, channel);

                CREATE TABLE attempts (
                    id            INTEGER PRIMARY KEY,
                    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                    number        INTEGER NOT NULL,
                    started_at    INTEGER NOT NULL,      -- unix milliseconds
                    duration_us   INTEGER NOT NULL,
                    worker        TEXT NOT NULL,         -- host/pid/nonce of the process
                    outcome       TEXT NOT NULL,         -- sent | transient | permanent
                    error_code    TEXT,
                    remote_code   TEXT,                  -- HTTP status, SMTP reply code
                    remote_text   TEXT,                  -- first 1 KB of the remote's answer
                    retry_at      INTEGER
                ) STRICT;
                CREATE INDEX attempts_message ON attempts(message_id);
                CREATE INDEX attempts_started ON attempts(started_at);
                """)
        }
        migrator.registerMigration("v2-suppressions") { db in
            try db.execute(sql: """
                CREATE TABLE suppressions (
                    channel     TEXT NOT NULL,
                    address     TEXT NOT NULL,            -- lower-cased email, E.164 phone
                    reason      TEXT NOT NULL,            -- unsubscribed | bounced | complained | manual
                    source      TEXT,
                    created_at  INTEGER NOT NULL,         -- unix milliseconds
                    PRIMARY KEY (channel, address)
                ) STRICT, WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-attempt-remote-id") { db in
            // The provider's id for an accepted message (a Twilio SID): what its delivery
            // receipts and support desk refer to.
            try db.execute(sql: "ALTER TABLE attempts ADD COLUMN remote_id TEXT")
        }
        migrator.registerMigration("v4-letter-batches") { db in
            try db.execute(sql: """
                CREATE TABLE letter_batches (
                    id              INTEGER PRIMARY KEY,
                    name            TEXT NOT NULL UNIQUE,    -- the export files' stem: 2026-11-22-000003
                    state           TEXT NOT NULL,           -- open | closing | closed
                    letters         INTEGER NOT NULL DEFAULT 0,
                    created_at      INTEGER NOT NULL,        -- unix milliseconds: the first letter
                    closing_at      INTEGER,                 -- when it stopped taking letters
                    closed_at       INTEGER,                 -- when its files were in place
                    sha256          TEXT,                    -- of the CSV
                    bytes           INTEGER,
                    upload_state    TEXT,                    -- NULL (no upload) | pending | uploaded | failed
                    upload_attempts INTEGER NOT NULL DEFAULT 0,
                    upload_next_at  INTEGER,
                    upload_error    TEXT
                ) STRICT;
                -- At most one batch takes letters at a time, across every process.
                CREATE UNIQUE INDEX letter_batches_open ON letter_batches(state) WHERE state = 'open';
                CREATE INDEX letter_batches_state ON letter_batches(state, created_at);

                -- A letter's place in a batch. The message id is the key: a letter delivered twice
                -- (a lease lost after a crash) keeps its one place, so it is printed once.
                CREATE TABLE letters (
                    message_id   INTEGER PRIMARY KEY,
                    batch_id     INTEGER NOT NULL REFERENCES letter_batches(id),
                    position     INTEGER NOT NULL,
                    key          TEXT,
                    name         TEXT NOT NULL,
                    line1        TEXT NOT NULL,
                    line2        TEXT NOT NULL,
                    city         TEXT NOT NULL,
                    region       TEXT NOT NULL,
                    postal_code  TEXT NOT NULL,
                    country      TEXT NOT NULL,
                    campaign     TEXT NOT NULL,
                    format       TEXT NOT NULL,          -- text | html
                    body         TEXT NOT NULL,
                    added_at     INTEGER NOT NULL
                ) STRICT;
                CREATE UNIQUE INDEX letters_batch ON letters(batch_id, position);
                """)
        }
        migrator.registerMigration("v5-intake-files") { db in
            try db.execute(sql: """
                -- Files taken from the drop folder. A file's progress (`position`: the last line or
                -- item whose outcome is recorded) is updated in the transaction that queues its
                -- messages, so a crash mid-file resumes exactly after what was queued.
                CREATE TABLE intake_files (
                    id          INTEGER PRIMARY KEY,
                    name        TEXT NOT NULL,
                    identity    TEXT NOT NULL UNIQUE,     -- device:inode:size:mtime
                    state       TEXT NOT NULL,            -- reading | read | archived
                    position    INTEGER NOT NULL DEFAULT 0,
                    queued      INTEGER NOT NULL DEFAULT 0,
                    duplicates  INTEGER NOT NULL DEFAULT 0,
                    rejected    INTEGER NOT NULL DEFAULT 0,
                    started_at  INTEGER NOT NULL,
                    finished_at INTEGER
                ) STRICT;
                CREATE TABLE intake_rejections (
                    file_id   INTEGER NOT NULL REFERENCES intake_files(id) ON DELETE CASCADE,
                    position  INTEGER NOT NULL,
                    field     TEXT NOT NULL,
                    reason    TEXT NOT NULL,
                    input     TEXT NOT NULL,
                    PRIMARY KEY (file_id, position)
                ) STRICT, WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v6-policies") { db in
            try db.execute(sql: """
                -- Why a policy last put the message off (quiet_hours, rate_limit, frequency_cap);
                -- NULL once it passes. `rate_limit` also means: it holds a reserved sending slot.
                ALTER TABLE messages ADD COLUMN deferred TEXT;
                -- Partial: ingest never touches it (new messages are not deferred).
                CREATE INDEX messages_deferred ON messages(deferred) WHERE deferred IS NOT NULL;

                -- Rate limits as GCRA: the next free slot (unix ms) per limit, shared by every process.
                CREATE TABLE rate_slots (
                    key   TEXT PRIMARY KEY,          -- channel:webhook, domain:gmail.com
                    tat   REAL NOT NULL
                ) STRICT, WITHOUT ROWID;

                -- Messages handed to delivery, for frequency caps (a failed one is removed).
                CREATE TABLE contacts (
                    message_id  INTEGER PRIMARY KEY,
                    channel     TEXT NOT NULL,
                    address     TEXT NOT NULL,
                    category    TEXT NOT NULL,
                    at          INTEGER NOT NULL       -- unix milliseconds
                ) STRICT;
                CREATE INDEX contacts_recipient ON contacts(channel, address, category, at);
                """)
        }
        migrator.registerMigration("v7-retry-base") { db in
            // Attempts made before an operator's last retry: the retry budget counts from here,
            // while attempt numbers go on (so `failed show` lists #1, #2, #3, never #1 twice).
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v8-events") { db in
            try db.execute(sql: """
                -- The outbox for the CRM: written in the transaction of the change each reports. One
                -- writer at a time, so positions are also the commit order a reader's cursor follows.
                CREATE TABLE events (
                    position    INTEGER PRIMARY KEY AUTOINCREMENT,
                    id          TEXT NOT NULL,             -- evt_…, what receivers de-duplicate on
                    type        TEXT NOT NULL,
                    message_id  INTEGER,
                    occurred_at INTEGER NOT NULL,          -- unix milliseconds
                    payload     TEXT NOT NULL              -- the event as the CRM receives it
                ) STRICT;
                CREATE INDEX events_message ON events(message_id) WHERE message_id IS NOT NULL;

                -- Where each push stands, and which process pushes (one at a time).
                CREATE TABLE event_pushes (
                    name        TEXT PRIMARY KEY,
                    position    INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    lease_until INTEGER
                ) STRICT;
                """)
        }
        migrator.registerMigration("v9-bounces") { db in
            try db.execute(sql: """
                -- Every bounce, complaint and auto-reply processed, kept for review with its decision.
                CREATE TABLE bounces (
                    id              INTEGER PRIMARY KEY,
                    received_at     INTEGER NOT NULL,   -- unix milliseconds
                    source          TEXT NOT NULL,      -- ingest, imap, pop3, a provider
                    source_id       TEXT NOT NULL,      -- a mailbox UID, a digest of the bytes
                    kind            TEXT NOT NULL,
                    format          TEXT NOT NULL,
                    message_id      INTEGER,
                    message_sent_at INTEGER,
                    recipient       TEXT,
                    status          TEXT,
                    severity        TEXT,
                    feedback_type   TEXT,
                    decision        TEXT NOT NULL,
                    reason          TEXT NOT NULL,
                    raw             BLOB NOT NULL,
                    UNIQUE (source, source_id)
                ) STRICT;
                CREATE INDEX bounces_recipient ON bounces(recipient, received_at) WHERE recipient IS NOT NULL;
                CREATE INDEX bounces_message ON bounces(message_id) WHERE message_id IS NOT NULL;
                -- An address's earlier emails, for the soft-bounce count that a good delivery resets
                -- (the expression is Address's rule for email: trimmed, lower-cased).
                CREATE INDEX messages_email ON messages(lower(trim(json_extract(recipient, '$.email'))), id)
                    WHERE channel = 'email';
                """)
        }
        migrator.registerMigration("v10-enrollments") { db in
            try db.execute(sql: """
                -- A lead in a drip sequence. Each step becomes an ordinary message when it is due;
                -- next_due is when the sequencer looks at the enrollment again.
                CREATE TABLE enrollments (
                    id            INTEGER PRIMARY KEY,
                    key           TEXT NOT NULL UNIQUE,
                    sequence      TEXT NOT NULL,
                    version       TEXT NOT NULL,
                    recipient     TEXT NOT NULL,          -- the enrollment's "to", JSON
                    email         TEXT,                   -- its addresses in Address's normal form,
                    phone         TEXT,                   -- for goals and exits by recipient
                    data          TEXT NOT NULL,
                    campaign      TEXT,
                    state         TEXT NOT NULL,          -- active | completed | exited
                    exit_reason   TEXT,
                    started_at    INTEGER NOT NULL,
                    next_step     INTEGER NOT NULL,       -- index of the next step to queue
                    next_due      INTEGER,
                    shift         INTEGER NOT NULL DEFAULT 0,
                    awaiting      INTEGER,                -- the message of the step queued last
                    awaiting_due  INTEGER,                -- when that step was due
                    updated_at    INTEGER NOT NULL,
                    ended_at      INTEGER
                ) STRICT;
                CREATE INDEX enrollments_due ON enrollments(next_due) WHERE state = 'active';
                CREATE INDEX enrollments_email ON enrollments(email) WHERE state = 'active' AND email IS NOT NULL;
                CREATE INDEX enrollments_phone ON enrollments(phone) WHERE state = 'active' AND phone IS NOT NULL;

                -- Every version of a sequence a lead was enrolled under, so edits leave them be.
                CREATE TABLE sequence_versions (
                    sequence    TEXT NOT NULL,
                    version     TEXT NOT NULL,
                    definition  TEXT NOT NULL,
                    created_at  INTEGER NOT NULL,
                    PRIMARY KEY (sequence, version)
                ) STRICT;
                """)
        }
        migrator.registerMigration("v11-intake-enrollments") { db in
            // A dropped file's lines may enroll leads as well as queue messages.
            try db.execute(sql: "ALTER TABLE intake_files ADD COLUMN enrolled INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v12-exited-steps") { db in
            try db.execute(sql: """
                CREATE INDEX enrollments_awaiting ON enrollments(awaiting) WHERE awaiting IS NOT NULL;

                -- A step being sent when its enrollment exited goes out if that attempt succeeds, and
                -- never again: whichever way it comes back to the queue (a transient failure, a
                -- deferral, an expired or given-back lease), it is canceled instead.
                CREATE TRIGGER messages_exited_step AFTER UPDATE OF state ON messages
                WHEN OLD.state = 'leased' AND NEW.state = 'queued'
                BEGIN
                    UPDATE messages SET state = 'canceled', last_error_code = 'enrollment_exited',
                        last_error = 'enrollment exited: ' || (SELECT exit_reason FROM enrollments WHERE awaiting = NEW.id AND state = 'exited')
                    WHERE id = NEW.id AND EXISTS (SELECT 1 FROM enrollments WHERE awaiting = NEW.id AND state = 'exited');
                END;
                """)
        }
        migrator.registerMigration("v13-enrollment-rounds") { db in
            // A sequence's reenroll rule lets a key enroll again once its enrollment ended: each
            // time is a round, and a later round's step messages carry it in their keys.
            try db.execute(sql: "ALTER TABLE enrollments ADD COLUMN round INTEGER NOT NULL DEFAULT 1")
        }
        return migrator
    }
}
