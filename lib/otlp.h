/* otlp.h - a session as OTLP/JSON: ExportTraceServiceRequest and ExportLogsServiceRequest */
#ifndef HIVE_OTLP_H
#define HIVE_OTLP_H

#include "report.h"
#include "util.h"

/*
 * OTLP/JSON as the OpenTelemetry Protocol specifies it (opentelemetry-proto's JSON
 * mapping with OTLP's exceptions): trace and span ids are lowercase hex (not base64), enum
 * fields (kind, status.code, severityNumber) are integers, 64-bit integers (timeUnixNano,
 * intValue) are decimal strings, attribute values are AnyValue objects, field names are
 * lowerCamelCase, and fields at their default value are left out.
 *
 * Ids derive from the session id alone (trace: SHA-256("hive/otlp/trace\0" ID), first 16
 * bytes; span of event SEQ in lane L: SHA-256("hive/otlp/span\0" ID "\0" L "\0" SEQ),
 * first 8 bytes; the session's own span is SEQ 0 of lane "main"), so exporting a session
 * twice sends the same ids and a collector or backend can drop the repeat.
 *
 * Both functions append one line of JSON and a newline to out; running out of memory sets
 * out->oom. f belongs to the caller. Nothing is redacted here: the caller scrubs out as it
 * scrubs every report (hive_redact_buf).
 */

/* The session as a trace (SPEC 13): one CI/CD pipeline-run span of kind SERVER named
 * "RUN <pipeline>" (cicd.pipeline.*, vcs.*, deployment.environment.name), and each event a
 * child task span (cicd.pipeline.task.*) at the event's time. */
void hive_otlp_traces(const struct hive_facts *f, struct hive_buf *out);

/* The session as logs: one record per event, its body the event, linked to the event's
 * span by traceId and spanId. */
void hive_otlp_logs(const struct hive_facts *f, struct hive_buf *out);

#endif
