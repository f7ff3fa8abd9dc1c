-- kruispunt schema version 5: `kruispunt audit search --message-id M` by
-- index.
--
-- An officer searches by MessageId without knowing the sender; the index
-- (sender, message_id) could not serve that and the search read the whole
-- table. Led by message_id it serves both that search and a lookup of one
-- sender's MessageId; no other statement used the old order.
--
-- Copyright (C) 2026 the kruispunt authors
-- SPDX-License-Identifier: GPL-2.0-or-later

ALTER TABLE audit_record DROP INDEX audit_message,
    ADD INDEX audit_message (message_id, sender);
