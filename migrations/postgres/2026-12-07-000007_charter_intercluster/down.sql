-- Back to rounds of operations only: the global clusters' rounds and everything answered in
-- them are removed.
DROP TABLE user_countries;
DELETE FROM answers WHERE response_id IN
    (SELECT id FROM responses WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL));
DELETE FROM responses WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL);
DELETE FROM response_drafts WHERE invitation_id IN
    (SELECT id FROM invitations WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL));
DELETE FROM invitations WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL);
DELETE FROM action_items WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL);
DELETE FROM rounds WHERE cluster_id IS NOT NULL;
DROP INDEX rounds_cluster;
ALTER TABLE rounds DROP CONSTRAINT rounds_one_owner;
ALTER TABLE rounds DROP COLUMN cluster_id;
ALTER TABLE rounds ALTER COLUMN operation_id SET NOT NULL;
