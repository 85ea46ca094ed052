// otlp.mjs - strict decoding of OTLP/JSON with the official protobuf definitions
//
// The generated root of @opentelemetry/otlp-transformer (protobufjs, built from
// opentelemetry-proto) is the reference. A request is accepted only when it survives a
// round trip unchanged: ids hex-checked and turned into bytes, the object read with
// fromObject, encoded to the protobuf wire format, decoded, verified, and written back with
// OTLP/JSON's rules (int64 and fixed64 as decimal strings, enums as integers, bytes as hex,
// default values left out). Anything the definitions do not know (an unknown or misspelt
// field), or a value of the wrong JSON type (a base64 id, an enum name, a number where a
// decimal string belongs), comes back different, and is refused with the path of the
// first difference.
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';

const require = createRequire(import.meta.url);
const { opentelemetry } = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const v1 = opentelemetry.proto.collector;
export const TYPES = {
	traces: v1.trace.v1.ExportTraceServiceRequest,
	logs: v1.logs.v1.ExportLogsServiceRequest,
};

// Where ids live, with their length in bytes.
const ID_FIELDS = { traceId: 16, spanId: 8, parentSpanId: 8 };

// A copy of o with every id field checked (lowercase hex of the right length) and
// turned into base64 for protobufjs, which reads bytes from base64.
function idsToBase64(o, path) {
	if (Array.isArray(o)) return o.map((x, i) => idsToBase64(x, `${path}[${i}]`));
	if (o === null || typeof o !== 'object') return o;
	const out = {};
	for (const [k, v] of Object.entries(o)) {
		if (k in ID_FIELDS && path.match(/\.(spans|links|logRecords)\[\d+\]$/)) {
			const n = ID_FIELDS[k];
			if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${2 * n}}$`).test(v))
				throw new Error(`${path}.${k}: not ${2 * n} lowercase hex digits: ${JSON.stringify(v)}`);
			if (/^0+$/.test(v)) throw new Error(`${path}.${k}: an all-zero id is invalid`);
			out[k] = Buffer.from(v, 'hex').toString('base64');
		} else {
			out[k] = idsToBase64(v, `${path}.${k}`);
		}
	}
	return out;
}

function idsToHex(o, path) {
	if (Array.isArray(o)) return o.map((x, i) => idsToHex(x, `${path}[${i}]`));
	if (o === null || typeof o !== 'object') return o;
	const out = {};
	for (const [k, v] of Object.entries(o))
		out[k] = k in ID_FIELDS && typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex')
			: idsToHex(v, `${path}.${k}`);
	return out;
}

// The first path where a and b differ, for the message.
function firstDifference(a, b, path) {
	if (isDeepStrictEqual(a, b)) return null;
	if (a && b && typeof a === 'object' && typeof b === 'object') {
		for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
			if (!(k in b)) return `${path}.${k}: not in the OTLP definitions (or a default value written out)`;
			if (!(k in a)) return `${path}.${k}: missing`;
			const d = firstDifference(a[k], b[k], `${path}.${k}`);
			if (d) return d;
		}
	}
	return `${path}: ${JSON.stringify(a)} reads back as ${JSON.stringify(b)}`;
}

// Decode text (one OTLP/JSON request of kind 'traces' or 'logs') strictly; returns the
// decoded request in OTLP/JSON form, or throws an Error saying what is wrong.
export function decodeStrict(kind, text) {
	const Type = TYPES[kind];
	const json = JSON.parse(text);
	const msg = Type.fromObject(idsToBase64(json, ''));
	const wire = Type.encode(msg).finish();
	const back = Type.decode(wire);
	const err = Type.verify(back);
	if (err) throw new Error(`does not verify: ${err}`);
	const obj = idsToHex(Type.toObject(back, { longs: String, enums: Number, bytes: String, defaults: false }), '');
	const d = firstDifference(json, obj, '');
	if (d) throw new Error(d);
	return obj;
}
