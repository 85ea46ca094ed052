// receiver.mjs - a small OTLP/HTTP JSON receiver on 127.0.0.1 for the tests
//
// Usage: node tests/otlp/receiver.mjs DIR
// Listens on 127.0.0.1 on a free port, writes the port to DIR/port once it listens, and
// for each POST to /v1/traces or /v1/logs with Content-Type application/json decodes the
// body strictly (otlp.mjs): a request that decodes is answered 200 with an empty
// Export*ServiceResponse ({}) and saved, decoded, as DIR/traces.N.json or DIR/logs.N.json;
// anything else is answered 400 (or 404, 415) with the reason, as a Collector would.
import { createServer } from 'node:http';
import { writeFileSync, renameSync } from 'node:fs';
import { decodeStrict } from './otlp.mjs';

const dir = process.argv[2];
let n = 0;
const server = createServer((req, res) => {
	const kind = { '/v1/traces': 'traces', '/v1/logs': 'logs' }[req.url];
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const reply = (code, body) => {
			res.writeHead(code, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify(body));
		};
		if (req.method !== 'POST' || !kind) return reply(404, { message: 'no such endpoint' });
		if (!/^application\/json\b/.test(req.headers['content-type'] || ''))
			return reply(415, { message: 'Content-Type must be application/json' });
		try {
			const obj = decodeStrict(kind, Buffer.concat(chunks).toString('utf8'));
			writeFileSync(`${dir}/${kind}.${++n}.json`, JSON.stringify(obj) + '\n');
			reply(200, {});
		} catch (e) {
			reply(400, { code: 3, message: e.message });
		}
	});
});
server.listen(0, '127.0.0.1', () => {
	writeFileSync(`${dir}/port.tmp`, String(server.address().port));
	renameSync(`${dir}/port.tmp`, `${dir}/port`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
