// tests/mcp/client.mjs - drive hive-mcp through a whole session with the official MCP
// TypeScript SDK (@modelcontextprotocol/sdk, pinned in tests/package.json), as an agent would.
//
// usage: node tests/mcp/client.mjs HIVE_MCP [ARGS...]
//
// Runs in the current directory (a git repository the bats test made). Prints one line of
// JSON per step, {"step":…, …}, for tests/bats/mcp.bats to check, and exits 1 (with the
// reason on stderr) when the SDK itself fails: a handshake it refuses, a reply it cannot
// parse, a missing reply.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { EmptyResultSchema, LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

const [command, ...args] = process.argv.slice(2);
if (!command) {
	console.error("usage: node client.mjs HIVE_MCP [ARGS...]");
	process.exit(2);
}

const out = (step, data) => console.log(JSON.stringify({ step, ...data }));
const text = (r) => r.content.map((c) => c.text).join("");

const transport = new StdioClientTransport({
	command,
	args,
	cwd: process.cwd(),
	env: process.env,
	stderr: "pipe",
});
let stderr = "";
transport.stderr?.on("data", (d) => (stderr += d));

const client = new Client({ name: "hive-test-client", version: "1.0.0" });
try {
	await client.connect(transport);
	out("initialize", {
		server: client.getServerVersion(),
		capabilities: client.getServerCapabilities(),
		instructions: client.getInstructions() ?? null,
		latest: LATEST_PROTOCOL_VERSION,
	});

	const { tools } = await client.listTools();
	out("tools/list", {
		names: tools.map((t) => t.name),
		schemas: Object.fromEntries(tools.map((t) => [t.name, t.inputSchema])),
	});

	await client.ping();
	out("ping", { ok: true });

	const call = async (step, name, a) => {
		const r = await client.callTool({ name, arguments: a });
		out(step, { isError: r.isError === true, text: text(r) });
	};
	await call("start", "hive_start", { session: "mcp-1" });
	await call("start-again", "hive_start", { session: "mcp-1" });
	await call("emit", "hive_emit", {
		session: "mcp-1",
		event_type: "deployment_configured",
		resource: "api",
		action: "update",
		platform: "K8s",
		status: "success",
		configuration: { version: "1.4.2", environment: "production", db_password: "hunter2" },
	});
	await call("emit-bad", "hive_emit", {
		session: "mcp-1",
		event_type: "deployment_configured",
		resource: "api",
		action: "destroy",
		platform: "K8s",
		status: "success",
	});
	await call("emit-unknown-arg", "hive_emit", { session: "mcp-1", event_type: "x", nope: 1 });
	await call("emit-no-session", "hive_emit", { session: "missing-1", event_type: "metric_recorded",
		configuration: { name: "cost", value: 1, unit: "USD" } });
	await call("check", "hive_check", { session: "mcp-1" });
	await call("show", "hive_show", { session: "mcp-1", format: "json" });
	await call("finish", "hive_finish", { session: "mcp-1" });
	await call("finish-again", "hive_finish", { session: "mcp-1" });
	await call("emit-after-finish", "hive_emit", { session: "mcp-1", event_type: "metric_recorded",
		configuration: { name: "cost", value: 1, unit: "USD" } });
	await call("check-all", "hive_check", { all: true });
	await call("show-runbook", "hive_show", { session: "mcp-1" });

	// an unknown tool and an unknown method are JSON-RPC errors the SDK raises
	for (const [step, fn] of [
		["unknown-tool", () => client.callTool({ name: "hive_destroy", arguments: {} })],
		["unknown-method", () => client.request({ method: "resources/list", params: {} }, EmptyResultSchema)],
	]) {
		try {
			await fn();
			out(step, { threw: false });
		} catch (e) {
			out(step, { threw: true, code: e.code, message: e.message });
		}
	}
	await client.close();
	out("close", { stderr });
} catch (e) {
	console.error(`client.mjs: ${e.stack || e}\nhive-mcp stderr:\n${stderr}`);
	process.exit(1);
}
