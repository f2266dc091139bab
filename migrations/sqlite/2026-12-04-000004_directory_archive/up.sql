-- Archived operations and organizations: no longer offered for new rounds or invitations,
-- their history stays readable. NULL: in use.
ALTER TABLE operations ADD COLUMN archived_at TIMESTAMP;
ALTER TABLE organizations ADD COLUMN archived_at TIMESTAMP;
