-- The language an operation's public pages open in (en, fr, es or ar); NULL: the
-- visitor's Accept-Language, then English.
ALTER TABLE operations ADD COLUMN default_language TEXT;
