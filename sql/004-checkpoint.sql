-- kruispunt schema version 4: signed checkpoints of the audit chains.
--
-- At an interval and when it stops, a hub node signs the head of its chain
-- (node, seq, hash) with its signing key. Whoever can write to the database
-- can recompute hashes, but not these signatures: `kruispunt audit verify`
-- checks every checkpoint against the chain and the hub's certificate, so a
-- rewritten tail is found.
--
-- Copyright (C) 2026 the kruispunt authors
-- SPDX-License-Identifier: GPL-2.0-or-later

CREATE TABLE IF NOT EXISTS audit_checkpoint (
    node            VARCHAR(64)  NOT NULL,
    seq             BIGINT UNSIGNED NOT NULL,
    hash            CHAR(64)     NOT NULL,
    signed_at       DATETIME(6)  NOT NULL,
    algorithm       VARCHAR(32)  NOT NULL,
    signature       TEXT         NOT NULL,
    certificate     CHAR(64)     NOT NULL,
    PRIMARY KEY (node, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
