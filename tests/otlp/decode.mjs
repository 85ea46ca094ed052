// decode.mjs - decode an OTLP/JSON request from stdin strictly (otlp.mjs) and print it
//
// Usage: node tests/otlp/decode.mjs traces|logs <REQUEST.json
// Exit 0 and the decoded request on stdout, or exit 1 and what is wrong on stderr.
import { readFileSync } from 'node:fs';
import { decodeStrict } from './otlp.mjs';

const kind = process.argv[2];
try {
	if (kind !== 'traces' && kind !== 'logs') throw new Error('usage: decode.mjs traces|logs');
	const obj = decodeStrict(kind, readFileSync(0, 'utf8'));
	process.stdout.write(JSON.stringify(obj) + '\n');
} catch (e) {
	process.stderr.write(`decode.mjs: ${e.message}\n`);
	process.exit(1);
}
