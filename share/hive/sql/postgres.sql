-- postgres.sql - hive's events in PostgreSQL (12 or later), and the DORA keys as views
--
-- Load the schema once (running it again changes nothing but the views and functions,
-- which it replaces), then any number of exports, from any number of repositories:
--
--   psql -v ON_ERROR_STOP=1 -f share/hive/sql/postgres.sql
--   hive-runbook --all --format events |
--     psql -v ON_ERROR_STOP=1 \
--       -c "\copy hive_import (doc) from pstdin with (format csv, quote e'\x01', delimiter e'\x02')" \
--       -c 'select hive_load()'
--
-- (The csv options with two control characters read each NDJSON line whole, backslashes
-- and all: JSON text never holds a raw control character.) hive_load() moves what was
-- imported into hive_events and says how many events were new: a line is named by
-- (repository, session_id, lane, seq) for good, so loading the same export twice, or an
-- export that overlaps an earlier one, adds only what was not there.
--
-- The views give the four keys as `hive-runbook --all` computes them (SPEC 5.4), per
-- repository (hive_dora) and across every repository loaded (hive_dora_all); the `dora`
-- column is the very JSON object `hive-runbook --all --format json` prints:
--   deployment frequency   successful deployments per day over the days the deployments
--                          span (at least one)
--   lead time for changes  median, commit time to successful deployment
--   change failure rate    failed deployments over all deployments
--   recovery time          median, incident_detected to the incident_resolved that closes
--                          it (same session and resource; a resolution closes the latest
--                          open incident)

CREATE UNLOGGED TABLE IF NOT EXISTS hive_import (
	doc jsonb NOT NULL -- one line of `hive-runbook --all --format events`
);

CREATE TABLE IF NOT EXISTS hive_events (
	repository text NOT NULL,      -- the remote URL (no credentials), else the folder name
	repository_name text NOT NULL,
	session_id text NOT NULL,
	lane text NOT NULL,            -- "main" for EVENTS.jsonl
	seq bigint NOT NULL,
	ts timestamptz NOT NULL,       -- the event's timestamp
	event_type text NOT NULL,
	resource text,                 -- details.resource, NULL when empty or absent
	status text,                   -- details.status
	environment text,              -- details.configuration.environment
	git_commit text,               -- git.commit
	commit_time timestamptz,       -- that commit's time, for deployments
	event jsonb NOT NULL,          -- the event as logged
	PRIMARY KEY (repository, session_id, lane, seq)
);
CREATE INDEX IF NOT EXISTS hive_events_type ON hive_events (event_type, repository);

-- Move every imported line into hive_events; returns how many were new.
CREATE OR REPLACE FUNCTION hive_load() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	added bigint;
BEGIN
	WITH moved AS (
		DELETE FROM hive_import RETURNING doc
	), ins AS (
		INSERT INTO hive_events
		SELECT coalesce(doc #>> '{repository,url}', doc #>> '{repository,name}'),
		       doc #>> '{repository,name}',
		       doc ->> 'session_id',
		       coalesce(doc ->> 'lane', 'main'),
		       (doc ->> 'seq')::bigint,
		       (doc #>> '{event,timestamp}')::timestamptz,
		       doc #>> '{event,event_type}',
		       nullif(doc #>> '{event,details,resource}', ''),
		       doc #>> '{event,details,status}',
		       doc #>> '{event,details,configuration,environment}',
		       doc #>> '{event,git,commit}',
		       (doc ->> 'commit_time')::timestamptz,
		       doc -> 'event'
		FROM moved
		ON CONFLICT DO NOTHING
		RETURNING 1
	)
	SELECT count(*) INTO added FROM ins;
	RETURN added;
END
$$;

-- Milliseconds from a to b, as a double (what hive's C code counts in).
CREATE OR REPLACE FUNCTION hive_ms(a timestamptz, b timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT (extract(epoch FROM b - a) * 1000)::double precision $$;

-- The median of v (NULL when empty): the middle value, or the mean of the two middle ones.
CREATE OR REPLACE FUNCTION hive_median(v double precision[]) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN n = 0 THEN NULL
		    WHEN n % 2 = 1 THEN s[n / 2 + 1]
		    ELSE (s[n / 2] + s[n / 2 + 1]) / 2 END
	FROM (SELECT coalesce(array_agg(x ORDER BY x), '{}') AS s,
		     count(x)::int AS n FROM unnest(v) AS x) AS m
$$;

-- Every deployment: success is details.status "success" exactly; lead_s only for a
-- successful one whose commit time is known.
CREATE OR REPLACE VIEW hive_deployments AS
SELECT repository, session_id, lane, seq, ts, resource, environment, git_commit,
       status = 'success' AS success,
       CASE WHEN status = 'success' AND commit_time IS NOT NULL
	    THEN hive_ms(commit_time, ts) / 1000.0 END AS lead_s
FROM hive_events
WHERE event_type = 'deployment_configured';

-- Every incident that was resolved: each incident_detected opens an incident for its
-- resource, each incident_resolved closes the latest one still open (in log order, within
-- one session and lane); a resolution with none open closes nothing.
CREATE OR REPLACE VIEW hive_recoveries AS
WITH RECURSIVE inc AS (
	SELECT repository, session_id, lane, resource, event_type, ts,
	       row_number() OVER (PARTITION BY repository, session_id, lane, resource
				  ORDER BY seq) AS n
	FROM hive_events
	WHERE event_type IN ('incident_detected', 'incident_resolved') AND resource IS NOT NULL
), walk AS (
	SELECT repository, session_id, lane, resource, n,
	       CASE WHEN event_type = 'incident_detected' THEN ARRAY[ts]
		    ELSE '{}'::timestamptz[] END AS open,
	       NULL::timestamptz AS detected, NULL::timestamptz AS resolved
	FROM inc WHERE n = 1
	UNION ALL
	SELECT i.repository, i.session_id, i.lane, i.resource, i.n,
	       CASE WHEN i.event_type = 'incident_detected' THEN w.open || i.ts
		    WHEN cardinality(w.open) > 0 THEN w.open[1:cardinality(w.open) - 1]
		    ELSE w.open END,
	       CASE WHEN i.event_type = 'incident_resolved' AND cardinality(w.open) > 0
		    THEN w.open[cardinality(w.open)] END,
	       CASE WHEN i.event_type = 'incident_resolved' AND cardinality(w.open) > 0
		    THEN i.ts END
	FROM walk w
	JOIN inc i ON i.repository = w.repository AND i.session_id = w.session_id
		  AND i.lane = w.lane AND i.resource = w.resource AND i.n = w.n + 1
)
SELECT repository, session_id, lane, resource, detected, resolved,
       hive_ms(detected, resolved) / 1000.0 AS recovery_s
FROM walk
WHERE resolved IS NOT NULL AND resolved >= detected;

-- The four keys for one repository, or for all of them when repo is NULL, as the JSON
-- object hive-runbook --all --format json prints.
CREATE OR REPLACE FUNCTION hive_dora_of(repo text) RETURNS jsonb LANGUAGE sql STABLE AS $$
	WITH d AS (
		SELECT count(*) AS deployments,
		       count(*) FILTER (WHERE NOT success) AS failed,
		       min(ts) AS first, max(ts) AS last,
		       array_agg(lead_s) FILTER (WHERE lead_s IS NOT NULL) AS leads
		FROM hive_deployments WHERE repo IS NULL OR repository = repo
	), r AS (
		SELECT array_agg(recovery_s) AS recoveries
		FROM hive_recoveries WHERE repo IS NULL OR repository = repo
	), s AS (
		SELECT count(*) AS sessions FROM (
			SELECT DISTINCT repository, session_id FROM hive_events
			WHERE repo IS NULL OR repository = repo) AS x
	), k AS (
		SELECT d.*, r.recoveries, s.sessions,
		       greatest(1.0, coalesce(hive_ms(d.first, d.last), 0) / 86400000.0) AS days
		FROM d, r, s
	)
	SELECT jsonb_build_object(
		'sessions', sessions,
		'deployment_frequency', jsonb_build_object(
			'deployments', deployments - failed,
			'days', days,
			'per_day', (deployments - failed) / days,
			'first', to_char(first AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
			'last', to_char(last AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
		'lead_time_for_changes', jsonb_build_object(
			'deployments', coalesce(cardinality(leads), 0),
			'median_s', hive_median(leads)),
		'change_failure_rate', jsonb_build_object(
			'deployments', deployments,
			'failed', failed,
			'rate', CASE WHEN deployments > 0
				     THEN failed::double precision / deployments END),
		'failed_deployment_recovery_time', jsonb_build_object(
			'incidents', coalesce(cardinality(recoveries), 0),
			'median_s', hive_median(recoveries)))
	FROM k
$$;

-- Per repository: the four keys as columns, and the whole object as `dora`.
CREATE OR REPLACE VIEW hive_dora AS
SELECT repository,
       (dora #>> '{deployment_frequency,per_day}')::double precision AS deployments_per_day,
       (dora #>> '{lead_time_for_changes,median_s}')::double precision AS lead_time_s,
       (dora #>> '{change_failure_rate,rate}')::double precision AS change_failure_rate,
       (dora #>> '{failed_deployment_recovery_time,median_s}')::double precision
	       AS recovery_time_s,
       dora
FROM (SELECT repository, hive_dora_of(repository) AS dora
      FROM (SELECT DISTINCT repository FROM hive_events) AS r) AS x;

-- Across every repository loaded.
CREATE OR REPLACE VIEW hive_dora_all AS
SELECT (dora #>> '{deployment_frequency,per_day}')::double precision AS deployments_per_day,
       (dora #>> '{lead_time_for_changes,median_s}')::double precision AS lead_time_s,
       (dora #>> '{change_failure_rate,rate}')::double precision AS change_failure_rate,
       (dora #>> '{failed_deployment_recovery_time,median_s}')::double precision
	       AS recovery_time_s,
       dora
FROM (SELECT hive_dora_of(NULL) AS dora) AS x;
