-- kruispunt schema version 1: the reference directory.
--
-- References only, never content: which institution holds a file on which
-- person in which capacity (quality) and period; who may obtain what
-- (authorisations, each with its legal basis); where which data are
-- available; who must be told of which changes. Applied by
-- `kruispunt directory migrate`, which records the version in
-- schema_version. Statements end with a semicolon at the end of a line.
--
-- Every table has a primary key (Galera needs one); every lookup on the
-- request path uses an index (see src/directory.c and tests/directory.test).
--
-- Copyright (C) 2026 the kruispunt authors
-- SPDX-License-Identifier: GPL-2.0-or-later

CREATE TABLE IF NOT EXISTS sector (
    code            VARCHAR(32)  NOT NULL,
    name            VARCHAR(200) NOT NULL,
    PRIMARY KEY (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS institution (
    id              CHAR(10)     NOT NULL,
    name            VARCHAR(200) NOT NULL,
    sector          VARCHAR(32)  NOT NULL,
    endpoint        VARCHAR(500) NULL,
    active          BOOLEAN      NOT NULL DEFAULT TRUE,
    PRIMARY KEY (id),
    KEY institution_sector (sector),
    CONSTRAINT institution_sector_fk FOREIGN KEY (sector) REFERENCES sector (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Certificates registered to institutions; the hub maps a verified signing
-- certificate to its institution by the SHA-256 fingerprint of its DER form.
-- The other keys resolve WS-Security key references that carry no
-- certificate (X509IssuerSerial, SubjectKeyIdentifier, SHA-1 thumbprint).
CREATE TABLE IF NOT EXISTS certificate (
    fingerprint     CHAR(64)      NOT NULL,
    institution     CHAR(10)      NOT NULL,
    subject         VARCHAR(1000) NOT NULL,
    issuer          VARCHAR(1000) NOT NULL,
    serial          VARCHAR(100)  NOT NULL,
    ski             VARCHAR(128)  NULL,
    thumbprint_sha1 CHAR(40)      NOT NULL,
    not_before      DATETIME      NOT NULL,
    not_after       DATETIME      NOT NULL,
    revoked         BOOLEAN       NOT NULL DEFAULT FALSE,
    revoked_at      DATETIME      NULL,
    added_at        DATETIME      NOT NULL DEFAULT CURRENT_TIMESTAMP,
    pem             TEXT          NOT NULL,
    PRIMARY KEY (fingerprint),
    KEY certificate_institution (institution),
    KEY certificate_serial (serial),
    KEY certificate_ski (ski),
    KEY certificate_thumbprint (thumbprint_sha1),
    CONSTRAINT certificate_institution_fk FOREIGN KEY (institution) REFERENCES institution (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS quality (
    code            VARCHAR(32)  NOT NULL,
    sector          VARCHAR(32)  NOT NULL,
    description     VARCHAR(200) NOT NULL,
    PRIMARY KEY (code),
    KEY quality_sector (sector),
    CONSTRAINT quality_sector_fk FOREIGN KEY (sector) REFERENCES sector (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS service (
    code            VARCHAR(32)  NOT NULL,
    description     VARCHAR(200) NOT NULL,
    PRIMARY KEY (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS mutation_type (
    code            VARCHAR(32)  NOT NULL,
    service         VARCHAR(32)  NOT NULL,
    source          CHAR(10)     NOT NULL,
    PRIMARY KEY (code),
    KEY mutation_type_service (service),
    KEY mutation_type_source (source),
    CONSTRAINT mutation_type_service_fk FOREIGN KEY (service) REFERENCES service (code),
    CONSTRAINT mutation_type_source_fk FOREIGN KEY (source) REFERENCES institution (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The person directory (who-where-how-when). end_date NULL: open-ended.
CREATE TABLE IF NOT EXISTS person_file (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    ssin            CHAR(11)     NOT NULL,
    institution     CHAR(10)     NOT NULL,
    quality         VARCHAR(32)  NOT NULL,
    begin_date      DATE         NOT NULL,
    end_date        DATE         NULL,
    PRIMARY KEY (id),
    UNIQUE KEY person_file_key (ssin, institution, quality, begin_date),
    KEY person_file_institution (institution),
    KEY person_file_quality (quality),
    CONSTRAINT person_file_institution_fk FOREIGN KEY (institution) REFERENCES institution (id),
    CONSTRAINT person_file_quality_fk FOREIGN KEY (quality) REFERENCES quality (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The access authorisation table (who-gets-what): requester_institution NULL
-- means every institution of requester_sector; valid_to NULL: open-ended.
CREATE TABLE IF NOT EXISTS authorization (
    id                    VARCHAR(64)  NOT NULL,
    requester_sector      VARCHAR(32)  NOT NULL,
    requester_institution CHAR(10)     NULL,
    quality               VARCHAR(32)  NOT NULL,
    service               VARCHAR(32)  NOT NULL,
    legal_basis           VARCHAR(128) NOT NULL,
    valid_from            DATE         NOT NULL,
    valid_to              DATE         NULL,
    PRIMARY KEY (id),
    KEY authorization_lookup (service, quality),
    KEY authorization_sector (requester_sector),
    KEY authorization_institution (requester_institution),
    KEY authorization_quality (quality),
    CONSTRAINT authorization_sector_fk FOREIGN KEY (requester_sector) REFERENCES sector (code),
    CONSTRAINT authorization_institution_fk FOREIGN KEY (requester_institution) REFERENCES institution (id),
    CONSTRAINT authorization_quality_fk FOREIGN KEY (quality) REFERENCES quality (code),
    CONSTRAINT authorization_service_fk FOREIGN KEY (service) REFERENCES service (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The availability table (what-where): institution or quality NULL = any.
-- (No unique key over columns that may be NULL: the import refuses
-- duplicate rules.)
CREATE TABLE IF NOT EXISTS availability (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    service         VARCHAR(32)  NOT NULL,
    sector          VARCHAR(32)  NOT NULL,
    institution     CHAR(10)     NULL,
    quality         VARCHAR(32)  NULL,
    PRIMARY KEY (id),
    KEY availability_service (service, sector),
    KEY availability_sector (sector),
    KEY availability_institution (institution),
    KEY availability_quality (quality),
    CONSTRAINT availability_service_fk FOREIGN KEY (service) REFERENCES service (code),
    CONSTRAINT availability_sector_fk FOREIGN KEY (sector) REFERENCES sector (code),
    CONSTRAINT availability_institution_fk FOREIGN KEY (institution) REFERENCES institution (id),
    CONSTRAINT availability_quality_fk FOREIGN KEY (quality) REFERENCES quality (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Who wants to be told of which changes.
CREATE TABLE IF NOT EXISTS subscription (
    institution     CHAR(10)     NOT NULL,
    mutation_type   VARCHAR(32)  NOT NULL,
    PRIMARY KEY (institution, mutation_type),
    KEY subscription_type (mutation_type),
    CONSTRAINT subscription_institution_fk FOREIGN KEY (institution) REFERENCES institution (id),
    CONSTRAINT subscription_type_fk FOREIGN KEY (mutation_type) REFERENCES mutation_type (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
