-- The "who did what" log is the activity log: "audit" now means the continuous hardware audits.
ALTER TABLE audit_log RENAME TO activity_log;
DROP INDEX audit_log_at;
DROP INDEX audit_log_target;
CREATE INDEX activity_log_at ON activity_log (at);
CREATE INDEX activity_log_target ON activity_log (target_type, target_id);
