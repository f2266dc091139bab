DROP TABLE totp_recovery_codes;
DROP TABLE totp_credentials;
