import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received, whatever it answered. */
export interface SlackCall {
  /** Web API method, e.g. `chat.postMessage`. */
  readonly method: string;
  /** Date.now() when the request had arrived in full. */
  readonly at: number;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  /** The arguments, from a form or JSON body; `blocks` parsed back from its JSON string. */
  readonly args: Readonly<Record<string, unknown>>;
  readonly status: number;
  /** What the call did: `posted`/`updated` a message, or why it did not. */
  readonly outcome: 'posted' | 'updated' | 'rate_limited' | 'failed' | 'dropped' | 'refused';
  /** Slack's error code for `refused` calls. */
  readonly error?: string;
}

export interface SlackMessage {
  /** Channel id. */
  readonly channel: string;
  readonly ts: string;
  text: unknown;
  blocks: unknown;
  /** How often chat.update changed it. */
  updates: number;
}

export interface SlackTestServer {
  /** Base URL to give WebClient as `slackApiUrl` (ends in `/api/`). */
  readonly url: string;
  readonly calls: readonly SlackCall[];
  /** Messages posted (and not deleted), in order, optionally of one channel id. */
  messages(channel?: string): SlackMessage[];
  /** The id the server gave a `#name` channel (ids are used as they are). */
  channelId(channel: string): string;
  /** The next `times` requests get 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(times: number, retryAfterSeconds: number): void;
  /**
   * The next `times` requests get this HTTP status. The body echoes the request headers, as some
   * proxies' error pages do, so tests can prove the token does not leak through an error.
   */
  fail(times: number, status?: number): void;
  /** Every request's connection is closed before an answer, until `up()`. */
  down(): void;
  up(): void;
  /** Deletes a message, as a person in Slack might. */
  deleteMessage(channel: string, ts: string): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for the part of Slack's Web API Convoy uses (`chat.postMessage`, `chat.update`),
 * close enough for the real WebClient: Bearer token checked, form or JSON bodies, Slack's answers
 * (`{ ok, channel, ts }`, `{ ok: false, error }`), and `chat.update` refusing channel names as
 * Slack does.
 */
export async function startSlackServer(options: { token: string }): Promise<SlackTestServer> {
  const calls: SlackCall[] = [];
  const messages: SlackMessage[] = [];
  const channelIds = new Map<string, string>();
  let rateLimited = { times: 0, retryAfterSeconds: 1 };
  let failing = { times: 0, status: 500 };
  let isDown = false;
  let sequence = 0;

  const channelId = (channel: string) => {
    if (!channel.startsWith('#')) return channel;
    let id = channelIds.get(channel);
    if (!id) {
      id = `C${String(channelIds.size + 1).padStart(9, '0')}`;
      channelIds.set(channel, id);
    }
    return id;
  };

  const server = createServer((request, response) => {
    if (isDown) {
      calls.push({
        method: methodOf(request),
        at: Date.now(),
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        args: {},
        status: 0,
        outcome: 'dropped',
      });
      request.socket.destroy();
      return;
    }
    readBody(request).then(
      (body) => answer(request, response, body),
      () => response.destroy(),
    );
  });

  function answer(request: IncomingMessage, response: ServerResponse, body: string): void {
    const method = methodOf(request);
    const args = parseArgs(request.headers['content-type'], body);
    const record = (status: number, outcome: SlackCall['outcome'], error?: string) =>
      calls.push({
        method,
        at: Date.now(),
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        args,
        status,
        outcome,
        ...(error ? { error } : {}),
      });
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify(payload));
    };
    const refuse = (error: string) => {
      record(200, 'refused', error);
      json(200, { ok: false, error });
    };

    if (rateLimited.times > 0) {
      rateLimited.times--;
      record(429, 'rate_limited');
      json(
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(rateLimited.retryAfterSeconds) },
      );
      return;
    }
    if (failing.times > 0) {
      failing.times--;
      record(failing.status, 'failed');
      response.writeHead(failing.status, { 'content-type': 'text/html' });
      response.end(
        `<html><body>upstream failure; request headers: ${JSON.stringify(request.headers)}</body></html>`,
      );
      return;
    }
    const authorization = request.headers.authorization;
    if (!authorization) {
      refuse('not_authed');
      return;
    }
    if (authorization !== `Bearer ${options.token}`) {
      refuse('invalid_auth');
      return;
    }

    const channel = typeof args.channel === 'string' ? args.channel : '';
    if (method === 'chat.postMessage') {
      if (!channel) {
        refuse('channel_not_found');
        return;
      }
      if (!args.text && !args.blocks) {
        refuse('no_text');
        return;
      }
      const id = channelId(channel);
      sequence++;
      const ts = `${Math.floor(Date.now() / 1000)}.${String(sequence).padStart(6, '0')}`;
      messages.push({ channel: id, ts, text: args.text, blocks: args.blocks, updates: 0 });
      record(200, 'posted');
      json(200, { ok: true, channel: id, ts, message: { type: 'message', text: args.text, ts } });
      return;
    }
    if (method === 'chat.update') {
      // Slack's chat.update takes channel ids only.
      if (!channel || channel.startsWith('#')) {
        refuse('channel_not_found');
        return;
      }
      const message = messages.find((m) => m.channel === channel && m.ts === args.ts);
      if (!message) {
        refuse('message_not_found');
        return;
      }
      message.text = args.text;
      message.blocks = args.blocks;
      message.updates++;
      record(200, 'updated');
      json(200, { ok: true, channel, ts: message.ts, text: args.text });
      return;
    }
    refuse('unknown_method');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    messages: (channel) => messages.filter((m) => channel === undefined || m.channel === channelId(channel)),
    channelId,
    rateLimit(times, retryAfterSeconds) {
      rateLimited = { times, retryAfterSeconds };
    },
    fail(times, status = 500) {
      failing = { times, status };
    },
    down() {
      isDown = true;
      server.closeIdleConnections();
    },
    up() {
      isDown = false;
    },
    deleteMessage(channel, ts) {
      const index = messages.findIndex((m) => m.channel === channelId(channel) && m.ts === ts);
      if (index !== -1) messages.splice(index, 1);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function methodOf(request: IncomingMessage): string {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  return path.replace(/^\/api\//, '');
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** WebClient sends forms with nested values as JSON strings; other clients send JSON. */
function parseArgs(contentType: string | undefined, body: string): Record<string, unknown> {
  if (contentType?.includes('application/json')) {
    const parsed: unknown = body ? JSON.parse(body) : {};
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  const args: Record<string, unknown> = Object.fromEntries(new URLSearchParams(body));
  for (const name of ['blocks', 'attachments', 'metadata']) {
    const value = args[name];
    if (typeof value === 'string') {
      try {
        args[name] = JSON.parse(value);
      } catch {
        // Left as the string it came as; Slack would answer invalid_blocks.
      }
    }
  }
  return args;
}
