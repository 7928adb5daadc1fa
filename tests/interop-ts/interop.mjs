// Interop check: the official TypeScript MCP SDK client against PolicyEngine's MCP samples.
// Run through run.sh (it takes the built samples' paths from the environment; see README.md).
// Prints one "ok"/"not ok" line per check and a closing "N passed, N failed" line; exits 1 when any check failed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  ElicitRequestSchema,
  ErrorCode,
  LATEST_PROTOCOL_VERSION,
  LoggingMessageNotificationSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const env = (name, required = true) => {
  const value = process.env[name];
  if (required && !value) {
    console.error(`interop: ${name} is not set`);
    process.exit(2);
  }
  return value;
};
const GUARD_PROXY = env('PE_GUARDPROXY_DLL');
const GUARDED_SERVER = env('PE_GUARDEDSERVER_DLL');
const HTTP_GATEWAY = env('PE_HTTPGATEWAY_DLL');
const EVERYTHING = env('PE_SERVER_EVERYTHING');
const POLICY = process.env.PE_INTEROP_POLICY || path.join(here, 'policies', 'everything.json');
const VERBOSE = process.env.PE_INTEROP_VERBOSE === '1';
const only = process.env.PE_INTEROP_ONLY ? new RegExp(process.env.PE_INTEROP_ONLY) : null;

// ------------------------------------------------------------------ harness

let passed = 0;
let failed = 0;
const sdkErrors = [];

class CheckFailed extends Error {}
function assert(condition, message) {
  if (!condition) throw new CheckFailed(message);
}
const text = (result) => (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const show = (value) => JSON.stringify(value)?.slice(0, 400);

async function check(name, fn, timeoutMs = 30_000) {
  if (only && !only.test(name)) return;
  let timer;
  try {
    const seen = await Promise.race([
      fn(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new CheckFailed(`timed out after ${timeoutMs} ms (hang)`)), timeoutMs); }),
    ]);
    passed++;
    console.log(`ok - ${name}${VERBOSE && seen !== undefined ? `\n    saw: ${show(seen)}` : ''}`);
  } catch (error) {
    failed++;
    const detail = error instanceof CheckFailed ? error.message : `${error?.constructor?.name}: ${error?.message}${error?.code !== undefined ? ` (code ${error.code})` : ''}`;
    console.log(`not ok - ${name}\n    ${detail.replaceAll('\n', '\n    ')}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Records every JSON-RPC message a transport sends and receives. */
function tap(transport) {
  const messages = [];
  let handler;
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    get: () => handler && ((message, extra) => { messages.push({ dir: 'in', message }); handler(message, extra); }),
    set: (h) => { handler = h; },
  });
  const send = transport.send.bind(transport);
  transport.send = (message, options) => { messages.push({ dir: 'out', message }); return send(message, options); };
  return messages;
}

/** A client; `approver` is 'accept', 'decline' or null (no elicitation capability). */
function makeClient(approver) {
  const client = new Client(
    { name: 'policyengine-interop-ts', version: '1.0.0' },
    { capabilities: approver ? { elicitation: { form: {} } } : {} },
  );
  client.elicitations = [];
  if (approver) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      client.elicitations.push(request.params);
      if (approver === 'decline') return { action: 'decline' };
      const props = request.params.requestedSchema?.properties ?? {};
      const content = {};
      for (const [key, schema] of Object.entries(props)) {
        content[key] = schema.type === 'boolean' ? true
          : schema.type === 'number' || schema.type === 'integer' ? 1
          : Array.isArray(schema.enum) ? schema.enum[0]
          : Array.isArray(schema.oneOf) ? schema.oneOf[0].const
          : 'interop';
      }
      return { action: 'accept', content };
    });
  }
  // Protocol errors the TS client reports (unknown progress tokens, unparsable messages...). Errors while closing
  // (the client aborting its own SSE stream) and from connections expected to fail are not interop problems.
  client.closing = false;
  client.expectFailure = false;
  client.onerror = (error) => {
    if (client.closing || client.expectFailure) return;
    // The TS client's own progress race (see the progress check, which verifies the wire order instead).
    if (/^Received a progress notification for an unknown token/.test(error?.message ?? '')) return;
    sdkErrors.push(`${error?.message ?? error}`);
  };
  const close = client.close.bind(client);
  client.close = () => { client.closing = true; return close(); };
  return client;
}

const stderrOf = (transport) => {
  const lines = [];
  transport.stderr?.on('data', (chunk) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return lines;
};

async function startStdio(dll, args, approver) {
  const transport = new StdioClientTransport({ command: 'dotnet', args: [dll, ...args], stderr: 'pipe' });
  const messages = tap(transport);
  const client = makeClient(approver);
  const stderr = stderrOf(transport);
  await client.connect(transport, { timeout: 60_000 });
  return { client, transport, messages, stderr };
}

async function startProxy(approver, identity = 'alice') {
  const upstreamLog = path.join(mkdtempSync(path.join(tmpdir(), 'pe-interop-')), 'upstream.jsonl');
  const started = await startStdio(GUARD_PROXY, [
    '--policy', POLICY, '--identity', identity, '--',
    'sh', '-c', 'tee -a "$0" | exec node "$1" stdio', upstreamLog, EVERYTHING,
  ], approver);
  started.upstream = () => (existsSync(upstreamLog) ? readFileSync(upstreamLog, 'utf8') : '');
  return started;
}

const callTool = (client, name, args = {}, options) => client.callTool({ name, arguments: args }, CallToolResultSchema, options);

async function expectMcpError(promise, code) {
  try {
    const result = await promise;
    throw new CheckFailed(`expected a JSON-RPC error ${code}, got a result: ${show(result)}`);
  } catch (error) {
    if (error instanceof CheckFailed) throw error;
    assert(error instanceof McpError, `expected McpError, got ${error?.constructor?.name}: ${error?.message}`);
    assert(code === undefined || error.code === code, `expected code ${code}, got ${error.code}: ${error.message}`);
    return { code: error.code, message: error.message };
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ GuardProxy in front of server-everything

async function guardProxy() {
  const proxy = await startProxy('accept');
  const { client } = proxy;
  try {
    await check('proxy: initialize negotiates the latest protocol version', async () => {
      const init = proxy.messages.find((m) => m.dir === 'in' && m.message.result?.protocolVersion);
      assert(init, 'no initialize result seen');
      assert(init.message.result.protocolVersion === LATEST_PROTOCOL_VERSION,
        `server answered ${init.message.result.protocolVersion}, client asked ${LATEST_PROTOCOL_VERSION}`);
      const info = client.getServerVersion();
      assert(info?.name?.includes('policyengine-proxy'), `serverInfo ${show(info)}`);
      return { protocolVersion: init.message.result.protocolVersion, serverInfo: info, capabilities: client.getServerCapabilities() };
    });

    let tools;
    await check('proxy: tools/list hides get-env and gzip-*', async () => {
      ({ tools } = await client.listTools());
      const names = tools.map((t) => t.name);
      assert(names.includes('echo') && names.includes('get-sum'), `names: ${names}`);
      assert(!names.includes('get-env') && !names.some((n) => n.startsWith('gzip-')), `hidden tool listed: ${names}`);
      return names;
    });

    await check('proxy: allowed echo returns the upstream text', async () => {
      const result = await callTool(client, 'echo', { message: 'hello' });
      assert(result.isError !== true && text(result) === 'Echo: hello', show(result));
      return result;
    });

    await check('proxy: image content relayed', async () => {
      const result = await callTool(client, 'get-tiny-image');
      const image = result.content.find((c) => c.type === 'image');
      assert(image && image.mimeType === 'image/png' && image.data.length > 0, show(result));
      return result.content.map((c) => c.type);
    });

    await check('proxy: structured content passes the client-side output-schema validation', async () => {
      const result = await callTool(client, 'get-structured-content', { location: 'Chicago' });
      assert(result.isError !== true, show(result));
      assert(result.structuredContent?.temperature === 36, `structuredContent ${show(result.structuredContent)}`);
      return result.structuredContent;
    });

    await check('proxy: resource links relayed', async () => {
      const result = await callTool(client, 'get-resource-links', { count: 2 });
      assert(result.content.some((c) => c.type === 'resource_link'), show(result));
      return result.content.map((c) => c.type);
    });

    await check('proxy: denied call is an isError result with reason and rule', async () => {
      const result = await callTool(client, 'echo', { message: 'my secret sauce' });
      assert(result.isError === true, show(result));
      assert(text(result).includes('messages must not carry secrets') && text(result).includes('/tools/echo/deny_if/0'), text(result));
      assert(!proxy.upstream().includes('secret sauce'), 'the denied call reached the upstream');
      return text(result);
    });

    await check('proxy: a hidden tool is answered exactly as a tool that does not exist', async () => {
      const hidden = await expectMcpError(callTool(client, 'get-env'), ErrorCode.InvalidParams);
      const absent = await expectMcpError(callTool(client, 'get-xyz'), ErrorCode.InvalidParams);
      assert(show(hidden).replaceAll('get-env', '<tool>') === show(absent).replaceAll('get-xyz', '<tool>'), show([hidden, absent]));
      assert(!proxy.upstream().includes('get-env') && !proxy.upstream().includes('get-xyz'), 'a hidden or absent tool call reached the upstream');
      return [hidden, absent];
    });

    await check('proxy: a listed tool the policy does not name is denied (default deny)', async () => {
      const unlisted = await callTool(client, 'get-annotated-message', { messageType: 'error' });
      assert(unlisted.isError === true, show(unlisted));
      assert(text(unlisted).includes('(default deny)'), text(unlisted));
      return text(unlisted);
    });

    await check('proxy: malformed tools/call (arguments not an object) is a -32602 error', async () => {
      const seen = [];
      seen.push(await expectMcpError(client.request({ method: 'tools/call', params: { name: 'echo', arguments: 'non-object-marker' } }, CallToolResultSchema), ErrorCode.InvalidParams));
      seen.push(await expectMcpError(client.request({ method: 'tools/call', params: { name: '', arguments: { message: 'empty-name-marker' } } }, CallToolResultSchema), ErrorCode.InvalidParams));
      seen.push(await expectMcpError(client.request({ method: 'tools/call', params: { arguments: { message: 'no-name-marker' } } }, CallToolResultSchema), ErrorCode.InvalidParams));
      const upstream = proxy.upstream();
      assert(!/non-object-marker|empty-name-marker|no-name-marker/.test(upstream), 'a malformed call reached the upstream');
      return seen;
    });

    await check('proxy: arguments the upstream rejects come back as isError, quota given back', async () => {
      const bad = await callTool(client, 'get-sum', { a: 'one', b: 2 });
      assert(bad.isError === true && !text(bad).includes('rate-limited'), show(bad));
      return text(bad);
    });

    await check('proxy: rate limit shows reason and retry seconds', async () => {
      const one = await callTool(client, 'get-sum', { a: 1, b: 2 });
      const two = await callTool(client, 'get-sum', { a: 3, b: 4 });
      assert(text(one).includes('3') && text(two).includes('7'), show([one, two]));
      const limited = await callTool(client, 'get-sum', { a: 5, b: 6 });
      assert(limited.isError === true, show(limited));
      assert(/rate-limited by policy: at most 2 sums per minute\. Retry after \d+ seconds/.test(text(limited)), text(limited));
      return text(limited);
    });

    await check('proxy: approval accepted through elicitation runs the call', async () => {
      const before = client.elicitations.length;
      const result = await callTool(client, 'echo', { message: 'approve: ship it' });
      assert(client.elicitations.length === before + 1, 'no elicitation request arrived');
      const asked = client.elicitations.at(-1);
      assert(asked.requestedSchema?.properties?.approve?.type === 'boolean', `schema ${show(asked.requestedSchema)}`);
      assert(result.isError !== true && text(result) === 'Echo: approve: ship it', show(result));
      return { message: asked.message, result: text(result) };
    });

    await check('proxy: upstream elicitation relayed to the client', async () => {
      const before = client.elicitations.length;
      const result = await callTool(client, 'trigger-elicitation-request');
      assert(client.elicitations.length === before + 1, 'the upstream elicitation did not reach the client');
      assert(result.isError !== true, show(result));
      return text(result).slice(0, 200);
    });

    await check('proxy: progress notifications relayed for the caller\'s progress token', async () => {
      // On the wire every progress notification must precede its result. (The TS client itself may still drop
      // the last one: it handles notifications a microtask later than responses, so a progress notification
      // read in the same chunk as the result finds its handler gone - a client-side race, not checked here.)
      const progress = [];
      const first = proxy.messages.length;
      const result = await callTool(client, 'trigger-long-running-operation', { duration: 0.2, steps: 3 }, { onprogress: (p) => progress.push(p) });
      assert(result.isError !== true, show(result));
      const wire = proxy.messages.slice(first).filter((m) => m.dir === 'in').map((m) => m.message);
      const resultAt = wire.findIndex((m) => m.result?.content);
      const token = proxy.messages.slice(first).find((m) => m.dir === 'out' && m.message.method === 'tools/call').message.params._meta.progressToken;
      const before = wire.slice(0, resultAt).filter((m) => m.method === 'notifications/progress' && m.params.progressToken === token).map((m) => m.params.progress);
      const after = wire.slice(resultAt + 1).filter((m) => m.method === 'notifications/progress' && m.params.progressToken === token);
      assert(before.join(',') === '1,2,3' && after.length === 0, `progress before the result: ${before}, after: ${after.length}`);
      assert(progress.length >= 1, 'the TS client delivered no progress');
      return { wireBeforeResult: before, deliveredToOnprogress: progress.length };
    });

    await check('proxy: cancellation aborts the call and the proxy keeps serving', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const pending = callTool(client, 'trigger-long-running-operation', { duration: 20, steps: 20 }, { signal: controller.signal });
      setTimeout(() => controller.abort('interop cancel'), 500);
      let rejected;
      try { await pending; } catch (error) { rejected = error; }
      assert(rejected, 'the cancelled call resolved');
      assert(Date.now() - started < 5000, 'cancellation took too long');
      const after = await callTool(client, 'echo', { message: 'after cancel' });
      assert(text(after) === 'Echo: after cancel', show(after));
      await sleep(300);
      const cancelledUpstream = proxy.upstream().includes('notifications/cancelled');
      return { rejected: `${rejected?.constructor?.name}: ${rejected?.message}`, upstreamSawCancel: cancelledUpstream };
    });

    await check('proxy: prompts listed and fetched', async () => {
      const { prompts } = await client.listPrompts();
      assert(prompts.some((p) => p.name === 'simple-prompt'), show(prompts));
      const prompt = await client.getPrompt({ name: 'simple-prompt' });
      assert(prompt.messages.length > 0, show(prompt));
      return prompts.map((p) => p.name);
    });

    await check('proxy: resources and templates listed, a resource read', async () => {
      const { resources } = await client.listResources();
      assert(resources.length > 0, 'no resources');
      const { resourceTemplates } = await client.listResourceTemplates();
      const read = await client.readResource({ uri: resources[0].uri });
      assert(read.contents.length > 0 && read.contents[0].uri, show(read));
      return { count: resources.length, templates: resourceTemplates.length, first: resources[0].uri };
    });

    await check('proxy: completion relayed', async () => {
      const caps = client.getServerCapabilities();
      assert(caps.completions, `no completions capability: ${show(caps)}`);
      const result = await client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'E' } });
      assert(Array.isArray(result.completion.values), show(result));
      return result.completion;
    });

    await check('proxy: logging level and log notifications relayed', async () => {
      const logs = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
      await client.setLoggingLevel('debug');
      const on = await callTool(client, 'toggle-simulated-logging');
      for (let i = 0; i < 60 && logs.length === 0; i++) await sleep(100);
      await callTool(client, 'toggle-simulated-logging');
      assert(logs.length > 0, `no notifications/message arrived (${text(on)})`);
      return logs[0];
    }, 15_000);

    await check('proxy: resource subscription', async () => {
      const caps = client.getServerCapabilities();
      if (!caps.resources?.subscribe) return 'not advertised (subscribe: false) - nothing to relay';
      const { resources } = await client.listResources();
      await client.subscribeResource({ uri: resources[0].uri });
      await client.unsubscribeResource({ uri: resources[0].uri });
      return 'subscribe/unsubscribe answered';
    });

    await check('proxy: ping', async () => { await client.ping(); });
  } finally {
    await client.close();
  }

  const declining = await startProxy('decline');
  try {
    await check('proxy: approval declined is an isError result, never forwarded', async () => {
      const result = await callTool(declining.client, 'echo', { message: 'approve: drop tables' });
      assert(result.isError === true && text(result).includes('did not approve'), show(result));
      assert(!declining.upstream().includes('drop tables'), 'the declined call reached the upstream');
      return text(result);
    });
  } finally {
    await declining.client.close();
  }

  const plain = await startProxy(null);
  try {
    await check('proxy: client without elicitation gets a clear denial for a call needing approval', async () => {
      const result = await callTool(plain.client, 'echo', { message: 'approve: drop tables' });
      assert(result.isError === true && text(result).includes('does not support elicitation'), show(result));
      assert(!plain.upstream().includes('drop tables'), 'the call reached the upstream');
      return text(result);
    });
  } finally {
    await plain.client.close();
  }
}

// ------------------------------------------------------------------ GuardedServer

async function guardedServer() {
  const server = await startStdio(GUARDED_SERVER, ['--identity', 'alice'], 'accept');
  const { client } = server;
  try {
    await check('guarded: initialize negotiates the latest protocol version', async () => {
      const init = server.messages.find((m) => m.dir === 'in' && m.message.result?.protocolVersion);
      assert(init?.message.result.protocolVersion === LATEST_PROTOCOL_VERSION, show(init?.message.result));
      return { protocolVersion: init.message.result.protocolVersion, serverInfo: client.getServerVersion() };
    });

    await check('guarded: tools/list hides admin_reset', async () => {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert(names.includes('run_python') && !names.includes('admin_reset'), `names: ${names}`);
      return names;
    });

    await check('guarded: echo', async () => {
      const result = await callTool(client, 'echo', { message: 'hi' });
      assert(result.isError !== true && text(result) === 'hi', show(result));
      return result;
    });

    await check('guarded: missing required argument', async () => {
      try {
        const result = await callTool(client, 'echo', {});
        assert(result.isError === true, `no error: ${show(result)}`);
        return { isError: true, text: text(result) };
      } catch (error) {
        if (error instanceof CheckFailed) throw error;
        assert(error instanceof McpError, `${error?.constructor?.name}: ${error?.message}`);
        return { jsonRpcError: error.code, message: error.message };
      }
    });

    await check('guarded: denied run_python (import socket)', async () => {
      const result = await callTool(client, 'run_python', { code: 'import socket' });
      assert(result.isError === true && text(result).includes('network and process access'), show(result));
      return text(result);
    });

    await check('guarded: run_python runs, fourth run rate-limited with retry seconds', async () => {
      for (let i = 0; i < 3; i++) {
        const ok = await callTool(client, 'run_python', { code: `print(${i} * 7)` });
        assert(ok.isError !== true && text(ok).includes(String(i * 7)), show(ok));
      }
      const limited = await callTool(client, 'run_python', { code: 'print(1)' });
      assert(limited.isError === true && /Retry after \d+ seconds/.test(text(limited)), show(limited));
      return text(limited);
    });

    await check('guarded: delete_note approved through elicitation', async () => {
      await callTool(client, 'save_note', { name: 'n1', text: 't' });
      const result = await callTool(client, 'delete_note', { name: 'n1' });
      assert(result.isError !== true, show(result));
      return text(result);
    });

    await check('guarded: confirm_echo (multi round-trip input request)', async () => {
      const result = await callTool(client, 'confirm_echo', { message: 'mrtr' });
      return { isError: result.isError, text: text(result) };
    });

    await check('guarded: hidden admin_reset answered as a tool that does not exist', async () => {
      const hidden = await expectMcpError(callTool(client, 'admin_reset'), ErrorCode.InvalidParams);
      const absent = await expectMcpError(callTool(client, 'xdmin_reset'), ErrorCode.InvalidParams);
      assert(show(hidden).replaceAll('admin_reset', '<tool>') === show(absent).replaceAll('xdmin_reset', '<tool>'), show([hidden, absent]));
      return [hidden, absent];
    });
  } finally {
    await client.close();
  }

  const declining = await startStdio(GUARDED_SERVER, ['--identity', 'alice'], 'decline');
  try {
    await check('guarded: delete_note declined', async () => {
      await callTool(declining.client, 'save_note', { name: 'keep', text: 't' });
      const result = await callTool(declining.client, 'delete_note', { name: 'keep' });
      assert(result.isError === true && text(result).includes('did not approve'), show(result));
      return text(result);
    });
  } finally {
    await declining.client.close();
  }

  const plain = await startStdio(GUARDED_SERVER, ['--identity', 'alice'], null);
  try {
    await check('guarded: delete_note from a client without elicitation', async () => {
      const result = await callTool(plain.client, 'delete_note', { name: 'keep' });
      assert(result.isError === true && text(result).includes('does not support elicitation'), show(result));
      return text(result);
    });
  } finally {
    await plain.client.close();
  }
}

// ------------------------------------------------------------------ HttpGateway

async function httpGateway() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const endpoint = new URL(`${base}/mcp`);
  const gateway = spawn('dotnet', [HTTP_GATEWAY, '--urls', base], { cwd: path.dirname(HTTP_GATEWAY), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  gateway.stdout.on('data', (d) => output.push(d.toString()));
  gateway.stderr.on('data', (d) => output.push(d.toString()));
  try {
    for (let i = 0; ; i++) {
      if (gateway.exitCode !== null) throw new Error(`HttpGateway exited: ${output.join('')}`);
      try { await fetch(endpoint); break; } catch { if (i > 300) throw new Error('HttpGateway did not start'); await sleep(200); }
    }

    const connect = async (token, approver, expectFailure = false) => {
      const transport = new StreamableHTTPClientTransport(endpoint, token === undefined ? {} : { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
      const client = makeClient(approver);
      client.expectFailure = expectFailure;
      await client.connect(transport, { timeout: 30_000 });
      return { client, transport };
    };

    await check('http: no token is rejected (401) at connect', async () => {
      try {
        const { client } = await connect(undefined, null, true);
        await client.close();
      } catch (error) {
        assert(error?.code === 401 && error.message.includes('missing bearer token'), `${error?.constructor?.name}: ${error?.message} (code ${error?.code})`);
        return `${error?.constructor?.name} (code ${error.code}): ${error?.message}`;
      }
      throw new CheckFailed('connected without a token');
    });

    await check('http: bad token is rejected (401) at connect', async () => {
      try {
        const { client } = await connect('nobody-token', null, true);
        await client.close();
      } catch (error) {
        assert(error?.code === 401 && error.message.includes('unknown bearer token'), `${error?.constructor?.name}: ${error?.message} (code ${error?.code})`);
        return `${error?.constructor?.name} (code ${error.code}): ${error?.message}`;
      }
      throw new CheckFailed('connected with a bad token');
    });

    const alice = await connect('alice-token', 'accept');
    try {
      await check('http: initialize negotiates the latest protocol version, session id issued', async () => {
        assert(alice.transport.protocolVersion === LATEST_PROTOCOL_VERSION, `negotiated ${alice.transport.protocolVersion}`);
        assert(alice.transport.sessionId, 'no Mcp-Session-Id');
        return { protocolVersion: alice.transport.protocolVersion, serverInfo: alice.client.getServerVersion() };
      });

      await check('http: tools/list hides internal_stats', async () => {
        const names = (await alice.client.listTools()).tools.map((t) => t.name);
        assert(names.includes('get_forecast') && !names.includes('internal_stats'), `names: ${names}`);
        return names;
      });

      await check('http: hidden internal_stats answered as a tool that does not exist', async () => {
        const hidden = await expectMcpError(callTool(alice.client, 'internal_stats'), ErrorCode.InvalidParams);
        const absent = await expectMcpError(callTool(alice.client, 'external_stats'), ErrorCode.InvalidParams);
        assert(show(hidden).replaceAll('internal_stats', '<tool>') === show(absent).replaceAll('external_stats', '<tool>'), show([hidden, absent]));
        return [hidden, absent];
      });

      await check('http: allowed call', async () => {
        const result = await callTool(alice.client, 'echo', { message: 'over http' });
        assert(result.isError !== true && text(result) === 'over http', show(result));
        return result;
      });

      await check('http: rate limit per grant with retry seconds', async () => {
        for (let i = 0; i < 3; i++) {
          const ok = await callTool(alice.client, 'get_forecast', { city: `City${i}` });
          assert(ok.isError !== true, show(ok));
        }
        const limited = await callTool(alice.client, 'get_forecast', { city: 'Oslo' });
        assert(limited.isError === true && /at most 3 forecasts per minute per grant\. Retry after \d+ seconds/.test(text(limited)), show(limited));
        return text(limited);
      });

      await check('http: approval through elicitation over SSE', async () => {
        const result = await callTool(alice.client, 'export_report', { name: 'q3' });
        assert(result.isError !== true && text(result) === "report 'q3' exported", show(result));
        return text(result);
      });

      await check('http: malformed tools/call is a -32602 error', async () => {
        return expectMcpError(alice.client.request({ method: 'tools/call', params: { name: 'echo', arguments: ['array'] } }, CallToolResultSchema), ErrorCode.InvalidParams);
      });
    } finally {
      await alice.transport.terminateSession().catch(() => {});
      await alice.client.close();
    }

    const bob = await connect('bob-token', null);
    try {
      await check('http: role requirement denies bob', async () => {
        const result = await callTool(bob.client, 'export_report', { name: 'q3' });
        assert(result.isError === true && text(result).includes('only analysts may export reports'), show(result));
        return text(result);
      });
    } finally {
      await bob.client.close();
    }

    const plain = await connect('alice-token', null);
    try {
      await check('http: approval needed, client without elicitation', async () => {
        const result = await callTool(plain.client, 'export_report', { name: 'q4' });
        assert(result.isError === true && text(result).includes('does not support elicitation'), show(result));
        return text(result);
      });
    } finally {
      await plain.client.close();
    }
  } finally {
    gateway.kill();
  }
}

// ------------------------------------------------------------------ main

for (const [name, run] of [['GuardProxy', guardProxy], ['GuardedServer', guardedServer], ['HttpGateway', httpGateway]]) {
  try {
    await run();
  } catch (error) {
    failed++;
    console.log(`not ok - ${name}: could not run: ${error?.stack ?? error}`);
  }
}

await check('no protocol errors reported by the TS client', async () => {
  assert(sdkErrors.length === 0, sdkErrors.join('\n'));
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
