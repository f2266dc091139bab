DROP TABLE collector_submissions;
DROP TABLE collectors;
