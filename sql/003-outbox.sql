-- kruispunt schema version 3: the outbox of the signal function.
--
-- PublishMutation writes one row per recipient in the same transaction as
-- its audit record, before the publisher gets its ticket. Delivery workers
-- of any hub node claim a due row for a lease (claimed_by, claimed_until),
-- send ReceiveMutation with the row's stable delivery_id, and mark it
-- delivered on a verified acknowledgement; a failure sets the next attempt
-- with exponential backoff, and after the configured number of attempts the
-- row is dead (kruispunt outbox retry puts it back). A node that dies with a
-- claim loses it when the lease expires. The payload is kept only until the
-- row is purged (kruispunt outbox purge).
--
-- Copyright (C) 2026 the kruispunt authors
-- SPDX-License-Identifier: GPL-2.0-or-later

CREATE TABLE IF NOT EXISTS outbox (
    delivery_id      CHAR(36)     NOT NULL,
    ticket           CHAR(36)     NOT NULL,
    recipient        CHAR(10)     NOT NULL,
    quality          VARCHAR(32)  NOT NULL,
    authorization_id VARCHAR(64)  NOT NULL,
    source           CHAR(10)     NOT NULL,
    mutation_type    VARCHAR(32)  NOT NULL,
    ssin             CHAR(11)     NOT NULL,
    effective_date   DATE         NOT NULL,
    payload          MEDIUMTEXT   NULL,
    state            VARCHAR(16)  NOT NULL,
    attempts         INT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt     DATETIME(6)  NOT NULL,
    created_at       DATETIME(6)  NOT NULL,
    delivered_at     DATETIME(6)  NULL,
    last_error       VARCHAR(255) NULL,
    claimed_by       VARCHAR(100) NULL,
    claimed_until    DATETIME(6)  NULL,
    PRIMARY KEY (delivery_id),
    KEY outbox_due (state, next_attempt),
    KEY outbox_recipient (recipient, state),
    KEY outbox_ticket (ticket),
    KEY outbox_claim (claimed_by)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
