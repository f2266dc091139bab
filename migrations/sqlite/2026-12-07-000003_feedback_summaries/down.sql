DROP INDEX feedback_unacked_due;
DROP INDEX feedback_close_times;
DROP TABLE feedback_sum_closures;
DROP TABLE feedback_sum_unacked;
DROP TABLE feedback_sum_profile;
DROP TABLE feedback_sum_items;
