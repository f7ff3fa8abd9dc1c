-- kruispunt schema version 2: the audit trail.
--
-- One record per exchange (accepted or refused) and per notification
-- delivery attempt. Records form a hash chain per hub node: seq counts the
-- node's records from 1, prev_hash is the hash of the node's previous record
-- (64 zeros for the first), and hash covers a canonical encoding of every
-- field and prev_hash (src/audit.c). Nodes never write each other's rows, so
-- there is no hot row in a Galera cluster. Payloads are never stored: only
-- their SHA-256.
--
-- Copyright (C) 2026 the kruispunt authors
-- SPDX-License-Identifier: GPL-2.0-or-later

CREATE TABLE IF NOT EXISTS audit_record (
    node             VARCHAR(64)  NOT NULL,
    seq              BIGINT UNSIGNED NOT NULL,
    ticket           CHAR(36)     NOT NULL,
    kind             VARCHAR(16)  NOT NULL,
    operation        VARCHAR(32)  NOT NULL,
    received_at      DATETIME(6)  NOT NULL,
    answered_at      DATETIME(6)  NOT NULL,
    latency_us       BIGINT UNSIGNED NOT NULL,
    sender           CHAR(10)     NULL,
    sender_cert      CHAR(64)     NULL,
    message_id       VARCHAR(128) NULL,
    ssin             CHAR(11)     NULL,
    quality          VARCHAR(32)  NULL,
    service          VARCHAR(32)  NULL,
    period_begin     DATE         NULL,
    period_end       DATE         NULL,
    decision         VARCHAR(32)  NOT NULL,
    reason           VARCHAR(255) NOT NULL,
    authorization_id VARCHAR(64)  NULL,
    legal_basis      VARCHAR(128) NULL,
    request_digest   CHAR(64)     NULL,
    answer_digest    CHAR(64)     NULL,
    prev_hash        CHAR(64)     NOT NULL,
    hash             CHAR(64)     NOT NULL,
    PRIMARY KEY (node, seq),
    UNIQUE KEY audit_ticket (ticket),
    KEY audit_ssin (ssin, received_at),
    KEY audit_sender (sender, received_at),
    KEY audit_received (received_at),
    KEY audit_message (sender, message_id),
    KEY audit_decision (decision, received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The institutions an exchange went to, with their outcome; part of the
-- record's hash.
CREATE TABLE IF NOT EXISTS audit_target (
    node             VARCHAR(64)  NOT NULL,
    seq              BIGINT UNSIGNED NOT NULL,
    position         SMALLINT UNSIGNED NOT NULL,
    institution      CHAR(10)     NOT NULL,
    status           VARCHAR(32)  NOT NULL,
    answer_digest    CHAR(64)     NULL,
    received_at      DATETIME(6)  NOT NULL,
    PRIMARY KEY (node, seq, position),
    KEY audit_target_institution (institution, received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- MessageIds already used, per sender, until they expire: replay protection
-- shared by every hub node (INSERT fails on the primary key for a replay).
CREATE TABLE IF NOT EXISTS message_seen (
    sender           CHAR(10)     NOT NULL,
    message_id       VARCHAR(128) NOT NULL,
    expires_at       DATETIME(6)  NOT NULL,
    PRIMARY KEY (sender, message_id),
    KEY message_seen_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
