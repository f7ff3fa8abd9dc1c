-- kruispunt schema version 7: each MessageId claim names the exchange that
-- made it.
--
-- A claim whose answer was lost with its connection (a Galera node that
-- committed and replicated it, then died before answering) is retried on a
-- new connection, which finds the row taken. Until now the retry took the
-- row for its own when the expiry, computed from the exchange's arrival to
-- the microsecond, was its own: two exchanges of one MessageId arriving at
-- two nodes in the same microsecond, one of them then losing its
-- connection, would both have passed. The exchange's ticket (a random UUID)
-- tells them apart, and tells an audit officer which exchange first used a
-- MessageId. Rows written before this version have none.
--
-- Copyright (C) 2026 the kruispunt authors
-- SPDX-License-Identifier: GPL-2.0-or-later

ALTER TABLE message_seen ADD COLUMN IF NOT EXISTS ticket CHAR(36) NULL;
