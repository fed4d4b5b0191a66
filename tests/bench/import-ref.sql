-- tests/bench/import-ref.sql — the reference for `vigil import`: the sqlite3 shell
-- bulk-loading the same JSON lines into the same alerts table (same indexes, same FTS
-- index) with its own JSON functions: format by a key it carries, title,
-- severity, time, dedup key and entities by coalescing each vendor's paths, repeats
-- folded by the same unique index. No validation, redaction, op log or correlation.
-- Run from the directory that holds alerts-in.jsonl.
.mode ascii
.separator "\037" "\n"
CREATE TEMP TABLE lines(j TEXT);
.import alerts-in.jsonl lines
BEGIN;
INSERT INTO alerts(id, source, source_ref, rule, title, severity, event_time, first_seen,
 last_seen, count, status, entities, techniques, raw, recorded_at)
SELECT lower(hex(randomblob(13))), src, ref, coalesce(rule, ''), title, sev, t, t, t, 1, 'new', ents, techs, j, t
FROM (SELECT j,
  CASE WHEN j->>'event_type' IS NOT NULL THEN 'suricata' WHEN j->>'$.rule.level' IS NOT NULL THEN 'wazuh'
       WHEN j->>'@timestamp' IS NOT NULL THEN 'elastic' WHEN j->>'class_uid' IS NOT NULL THEN 'ocsf'
       ELSE j->>'source' END AS src,
  coalesce(j->>'$."kibana.alert.uuid"', j->>'id', j->>'$.finding_info.uid', j->>'source_ref',
           'fp:' || (j->>'$.alert.signature_id') || (j->>'src_ip') || (j->>'dest_ip')) AS ref,
  coalesce(j->>'$."kibana.alert.rule.rule_id"', j->>'$.rule.id', j->>'$.alert.signature_id', j->>'rule') AS rule,
  coalesce(j->>'$."kibana.alert.rule.name"', j->>'$.alert.signature', j->>'$.rule.description',
           j->>'$.finding_info.title', j->>'title') AS title,
  coalesce(CASE j->>'$."kibana.alert.severity"' WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 END,
           4 - (j->>'$.alert.severity'), min(4, (j->>'$.rule.level') / 4), (j->>'severity_id') - 1, j->>'severity', 2) AS sev,
  coalesce(CAST(unixepoch(substr(coalesce(j->>'@timestamp', j->>'timestamp'), 1, 19)) AS INTEGER) * 1000, j->>'time') AS t,
  json_object('host', coalesce(j->>'$.host.name', j->>'$.agent.name', j->>'$.entities.host'),
              'user', coalesce(j->>'$.user.name', j->>'$.data.srcuser', j->>'$.entities.user', j->>'$.actor.user.name'),
              'src_ip', coalesce(j->>'src_ip', j->>'$.data.srcip', j->>'$.src_endpoint.ip'),
              'dest_ip', coalesce(j->>'dest_ip', j->>'$.destination.ip')) AS ents,
  coalesce(j->'$.rule.mitre.id', j->'techniques', '[]') AS techs
 FROM lines)
WHERE title IS NOT NULL
ON CONFLICT(source, source_ref) WHERE source_ref IS NOT NULL DO UPDATE SET count = count + 1;
INSERT INTO fts(rowid, body) SELECT rowid * 8 + 3, title || ' ' || rule FROM alerts;
COMMIT;
