ALTER TABLE invitations DROP COLUMN membership;
DROP TABLE onboarding_ticks;
DROP TABLE self_assessment_links;
DROP TABLE self_assessments;
DROP TABLE membership_events;
DROP TABLE memberships;
