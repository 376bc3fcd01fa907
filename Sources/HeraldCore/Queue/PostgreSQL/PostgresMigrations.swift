import Logging
import PostgresNIO

/// The PostgreSQL schema, one named migration per shipped change, applied in order at start.
///
/// A migration that has shipped is never edited: `herald_migrations` records the names applied,
/// and a database only ever moves forward. Start-up takes a session advisory lock first, so two
/// hosts starting at once apply each migration exactly once (the second waits, then finds it done).
///
/// The shape follows the SQLite engine's (the same columns, unix milliseconds in `bigint`), so
/// `herald copy` moves rows across unchanged.
enum PostgresMigrations {
    /// `pg_advisory_lock` key for migrations: "herald" in ASCII.
    static let lockKey: Int64 = 0x6865_7261_6c64

    static let all: [(name: String, sql: [String])] = [
        ("v1-queue", [
            """
            CREATE TABLE messages (
                id              bigserial PRIMARY KEY,
                key             text UNIQUE,
                channel         text NOT NULL,
                template        text NOT NULL,
                recipient       text NOT NULL,          -- the message's "to", JSON
                data            text NOT NULL,          -- the message's "data", JSON
                category        text NOT NULL,
                campaign        text,
                state           text NOT NULL,          -- queued | leased | sent | failed | suppressed | canceled
                due_at          bigint NOT NULL,        -- unix milliseconds
                created_at      bigint NOT NULL,
                updated_at      bigint NOT NULL,
                attempts        bigint NOT NULL DEFAULT 0,
                lease_owner     text,
                lease_until     bigint,
                last_error_code text,
                last_error      text,
                deferred        text,                   -- quiet_hours | rate_limit | frequency_cap
                retry_base      bigint NOT NULL DEFAULT 0
            )
            """,
            // Claims walk this index in due order and stop at LIMIT.
            "CREATE INDEX messages_due ON messages (due_at, id) WHERE state = 'queued'",
            "CREATE INDEX messages_lease ON messages (lease_until) WHERE state = 'leased'",
            "CREATE INDEX messages_state_channel ON messages (state, channel)",
            "CREATE INDEX messages_deferred ON messages (deferred) WHERE deferred IS NOT NULL",
            """
            CREATE TABLE attempts (
                id           bigserial PRIMARY KEY,
                message_id   bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                number       bigint NOT NULL,
                started_at   bigint NOT NULL,
                duration_us  bigint NOT NULL,
                worker       text NOT NULL,
                outcome      text NOT NULL,
                error_code   text,
                remote_code  text,
                remote_text  text,
                retry_at     bigint,
                remote_id    text
            )
            """,
            "CREATE INDEX attempts_message ON attempts (message_id)",
            "CREATE INDEX attempts_started ON attempts (started_at)",
            """
            CREATE TABLE suppressions (
                channel     text NOT NULL,
                address     text NOT NULL,
                reason      text NOT NULL,
                source      text,
                created_at  bigint NOT NULL,
                PRIMARY KEY (channel, address)
            )
            """,
            """
            CREATE TABLE letter_batches (
                id              bigserial PRIMARY KEY,
                name            text NOT NULL UNIQUE,
                state           text NOT NULL,          -- open | closing | closed
                letters         bigint NOT NULL DEFAULT 0,
                created_at      bigint NOT NULL,
                closing_at      bigint,
                closed_at       bigint,
                sha256          text,
                bytes           bigint,
                upload_state    text,
                upload_attempts bigint NOT NULL DEFAULT 0,
                upload_next_at  bigint,
                upload_error    text
            )
            """,
            "CREATE UNIQUE INDEX letter_batches_open ON letter_batches (state) WHERE state = 'open'",
            "CREATE INDEX letter_batches_state ON letter_batches (state, created_at)",
            """
            CREATE TABLE letters (
                message_id   bigint PRIMARY KEY,
                batch_id     bigint NOT NULL REFERENCES letter_batches (id),
                position     bigint NOT NULL,
                key          text,
                name         text NOT NULL,
                line1        text NOT NULL,
                line2        text NOT NULL,
                city         text NOT NULL,
                region       text NOT NULL,
                postal_code  text NOT NULL,
                country      text NOT NULL,
                campaign     text NOT NULL,
                format       text NOT NULL,
                body         text NOT NULL,
                added_at     bigint NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX letters_batch ON letters (batch_id, position)",
            """
            CREATE TABLE intake_files (
                id          bigserial PRIMARY KEY,
                name        text NOT NULL,
                identity    text NOT NULL UNIQUE,
                state       text NOT NULL,              -- reading | read | archived
                position    bigint NOT NULL DEFAULT 0,
                queued      bigint NOT NULL DEFAULT 0,
                duplicates  bigint NOT NULL DEFAULT 0,
                rejected    bigint NOT NULL DEFAULT 0,
                started_at  bigint NOT NULL,
                finished_at bigint
            )
            """,
            """
            CREATE TABLE intake_rejections (
                file_id   bigint NOT NULL REFERENCES intake_files (id) ON DELETE CASCADE,
                position  bigint NOT NULL,
                field     text NOT NULL,
                reason    text NOT NULL,
                input     text NOT NULL,
                PRIMARY KEY (file_id, position)
            )
            """,
            // Rate limits as GCRA: the next free slot per limit; NULL before its first message.
            "CREATE TABLE rate_slots (key text PRIMARY KEY, tat double precision)",
            """
            CREATE TABLE contacts (
                message_id  bigint PRIMARY KEY,
                channel     text NOT NULL,
                address     text NOT NULL,
                category    text NOT NULL,
                at          bigint NOT NULL
            )
            """,
            "CREATE INDEX contacts_recipient ON contacts (channel, address, category, at)",
        ]),
        // A queue table turns its rows over all day: vacuum and analyze it after 2 % has changed
        // rather than PostgreSQL's default 20 %, so dead index entries and stale estimates do not
        // pile up between passes.
        ("v2-queue-autovacuum", [
            "ALTER TABLE messages SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)",
            "ALTER TABLE attempts SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05)",
        ]),
        // The outbox for the CRM, written in the transaction of the change each event reports.
        // Positions come from a sequence before commit, so a reader follows the writing
        // transaction's id (`tx`) first: it reads only transactions older than every one still
        // running, and a cursor past them can never be overtaken by a late commit.
        ("v3-events", [
            """
            CREATE TABLE events (
                position    bigserial PRIMARY KEY,
                tx          xid8 NOT NULL DEFAULT pg_current_xact_id(),
                id          text NOT NULL,              -- evt_…, what receivers de-duplicate on
                type        text NOT NULL,
                message_id  bigint,
                occurred_at bigint NOT NULL,            -- unix milliseconds
                payload     text NOT NULL               -- the event as the CRM receives it
            )
            """,
            "CREATE INDEX events_order ON events (tx, position)",
            "CREATE INDEX events_message ON events (message_id) WHERE message_id IS NOT NULL",
            """
            CREATE TABLE event_pushes (
                name        text PRIMARY KEY,
                tx          xid8 NOT NULL DEFAULT '0',
                position    bigint NOT NULL DEFAULT 0,
                lease_owner text,
                lease_until bigint
            )
            """,
        ]),
        // Every bounce, complaint and auto-reply processed, kept for review with its decision.
        ("v4-bounces", [
            """
            CREATE TABLE bounces (
                id              bigserial PRIMARY KEY,
                received_at     bigint NOT NULL,        -- unix milliseconds
                source          text NOT NULL,          -- ingest, imap, pop3, a provider
                source_id       text NOT NULL,          -- a mailbox UID, a digest of the bytes
                kind            text NOT NULL,
                format          text NOT NULL,
                message_id      bigint,
                message_sent_at bigint,
                recipient       text,
                status          text,
                severity        text,
                feedback_type   text,
                decision        text NOT NULL,
                reason          text NOT NULL,
                raw             bytea NOT NULL,
                UNIQUE (source, source_id)
            )
            """,
            "CREATE INDEX bounces_recipient ON bounces (recipient, received_at) WHERE recipient IS NOT NULL",
            "CREATE INDEX bounces_message ON bounces (message_id) WHERE message_id IS NOT NULL",
            // An address's earlier emails, for the soft-bounce count that a good delivery resets
            // (the expression is Address's rule for email: trimmed, lower-cased).
            "CREATE INDEX messages_email ON messages (lower(btrim(recipient::jsonb ->> 'email')), id) WHERE channel = 'email'",
        ]),
        ("v5-enrollments", [
            // A lead in a drip sequence. Each step becomes an ordinary message when it is due;
            // next_due is when the sequencer looks at the enrollment again.
            """
            CREATE TABLE enrollments (
                id            bigserial PRIMARY KEY,
                key           text NOT NULL UNIQUE,
                sequence      text NOT NULL,
                version       text NOT NULL,
                recipient     text NOT NULL,
                email         text,                   -- its addresses in Address's normal form,
                phone         text,                   -- for goals and exits by recipient
                data          text NOT NULL,
                campaign      text,
                state         text NOT NULL,          -- active | completed | exited
                exit_reason   text,
                started_at    bigint NOT NULL,
                next_step     integer NOT NULL,
                next_due      bigint,
                shift         bigint NOT NULL DEFAULT 0,
                awaiting      bigint,
                awaiting_due  bigint,
                updated_at    bigint NOT NULL,
                ended_at      bigint
            )
            """,
            "CREATE INDEX enrollments_due ON enrollments (next_due) WHERE state = 'active'",
            "CREATE INDEX enrollments_email ON enrollments (email) WHERE state = 'active' AND email IS NOT NULL",
            "CREATE INDEX enrollments_phone ON enrollments (phone) WHERE state = 'active' AND phone IS NOT NULL",
            """
            CREATE TABLE sequence_versions (
                sequence    text NOT NULL,
                version     text NOT NULL,
                definition  text NOT NULL,
                created_at  bigint NOT NULL,
                PRIMARY KEY (sequence, version)
            )
            """,
        ]),
        ("v6-intake-enrollments", [
            // A dropped file's lines may enroll leads as well as queue messages.
            "ALTER TABLE intake_files ADD COLUMN enrolled bigint NOT NULL DEFAULT 0",
        ]),
        ("v7-exited-steps", [
            "CREATE INDEX enrollments_awaiting ON enrollments (awaiting) WHERE awaiting IS NOT NULL",
            // A step being sent when its enrollment exited goes out if that attempt succeeds, and
            // never again: whichever way it comes back to the queue (a transient failure, a
            // deferral, an expired or given-back lease), it is canceled instead.
            """
            CREATE FUNCTION herald_cancel_exited_step() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                found_state text;
                reason text;
            BEGIN
                -- FOR SHARE waits for an exit still being committed and then reads its outcome; a
                -- plain read would see the enrollment active and put the step back in the queue.
                SELECT state, exit_reason INTO found_state, reason FROM enrollments WHERE awaiting = NEW.id FOR SHARE;
                IF found_state = 'exited' THEN
                    NEW.state := 'canceled';
                    NEW.last_error_code := 'enrollment_exited';
                    NEW.last_error := 'enrollment exited: ' || reason;
                END IF;
                RETURN NEW;
            END
            $$
            """,
            """
            CREATE TRIGGER messages_exited_step BEFORE UPDATE OF state ON messages
            FOR EACH ROW WHEN (OLD.state = 'leased' AND NEW.state = 'queued')
            EXECUTE FUNCTION herald_cancel_exited_step()
            """,
        ]),
        ("v8-enrollment-rounds", [
            // A sequence's reenroll rule lets a key enroll again once its enrollment ended: each
            // time is a round, and a later round's step messages carry it in their keys.
            "ALTER TABLE enrollments ADD COLUMN round integer NOT NULL DEFAULT 1",
        ]),
    ]

    static func apply(_ client: PostgresClient, logger: Logger, queryLogger: Logger) async throws {
        func run(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
            try await connection.query(query, logger: queryLogger)
        }
        try await PostgresQueueError.describing { try await client.withConnection { connection in
            try await run("SELECT pg_advisory_lock(\(lockKey))", on: connection)
            do {
                try await run("""
                    CREATE TABLE IF NOT EXISTS herald_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                    """, on: connection)
                var names = Set<String>()
                for try await name in try await connection.query("SELECT name FROM herald_migrations", logger: queryLogger)
                    .decode(String.self) { names.insert(name) }
                for migration in all where !names.contains(migration.name) {
                    try await connection.withTransaction(logger: queryLogger) { transaction in
                        for statement in migration.sql {
                            try await run(PostgresQuery(unsafeSQL: statement), on: transaction)
                        }
                        try await run("INSERT INTO herald_migrations (name) VALUES (\(migration.name))", on: transaction)
                    }
                    logger.notice("applied a PostgreSQL migration", metadata: ["migration": "\(migration.name)"])
                }
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: queryLogger)
                throw error
            }
            try await run("SELECT pg_advisory_unlock(\(lockKey))", on: connection)
        } }
    }
}
