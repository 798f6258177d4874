import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received, whatever it answered. */
export interface SlackCall {
  /** Web API method, e.g. `chat.postMessage`; `upload` for a POST of a file's bytes to an upload URL. */
  readonly method: string;
  /** Date.now() when the request had arrived in full. */
  readonly at: number;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  /** The arguments, from a form or JSON body; `blocks` parsed back from its JSON string. */
  readonly args: Readonly<Record<string, unknown>>;
  readonly status: number;
  /**
   * What the call did: `posted`/`updated` a message; `issued` an upload URL, `uploaded` a file's
   * bytes, `shared` (completed) an upload; `listed` channels; or why it did not.
   */
  readonly outcome:
    | 'posted'
    | 'updated'
    | 'issued'
    | 'uploaded'
    | 'shared'
    | 'listed'
    | 'rate_limited'
    | 'failed'
    | 'dropped'
    | 'refused';
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

/** A file completed with `files.completeUploadExternal` into a channel. */
export interface SlackFile {
  readonly id: string;
  /** Channel id it was shared to. */
  readonly channel: string;
  readonly filename: string;
  readonly title: string;
  /** As `files.getUploadURLExternal` was told (`alt_text`, as WebClient names it). */
  readonly altText: string | undefined;
  /** Exactly the bytes POSTed to the upload URL. */
  readonly bytes: Buffer;
}

export interface SlackTestServerOptions {
  readonly token: string;
  /**
   * Most channels `users.conversations` returns per page, whatever `limit` asks; small values make
   * callers follow `next_cursor`.
   * @default 100
   */
  readonly pageSize?: number;
  /**
   * The bot token's scopes; when given, a method whose scope is missing is answered `missing_scope`
   * with `needed` and `provided`, as Slack does: chat:write for chat.*, files:write for files.*,
   * channels:read for users.conversations, and groups:read as well when it asks for private channels.
   * @default every scope
   */
  readonly scopes?: readonly string[];
}

export interface SlackTestServer {
  /** Base URL to give WebClient as `slackApiUrl` (ends in `/api/`). */
  readonly url: string;
  readonly calls: readonly SlackCall[];
  /** Messages posted (and not deleted), in order, optionally of one channel id. */
  messages(channel?: string): SlackMessage[];
  /**
   * Files shared (completed into a channel), in order, optionally of one channel (`#name` or id).
   * Sharing one upload twice lists it twice.
   */
  files(channel?: string): SlackFile[];
  /**
   * The id the server gave a `#name` channel (ids are used as they are). Naming a channel here
   * creates it with the bot as a member, so `users.conversations` lists it.
   */
  channelId(channel: string): string;
  /**
   * The next `times` requests (to `method` only, when given, e.g. `upload`) get 429 with
   * `Retry-After: retryAfterSeconds`.
   */
  rateLimit(times: number, retryAfterSeconds: number, method?: string): void;
  /**
   * The next `times` requests (to `method` only, when given) get this HTTP status. The body echoes
   * the request headers, as some proxies' error pages do, so tests can prove the token does not leak
   * through an error.
   */
  fail(times: number, status?: number, method?: string): void;
  /** Every request's connection is closed before an answer, until `up()`. */
  down(): void;
  up(): void;
  /** Deletes a message, as a person in Slack might. */
  deleteMessage(channel: string, ts: string): void;
  close(): Promise<void>;
}

/** What `files.completeUploadExternal` accepts as `channel_id` (Slack answers invalid_arguments otherwise). */
const CHANNEL_ID = /^[CGDZ][A-Z0-9]{8,}$/;

/** An upload announced with `files.getUploadURLExternal`. */
interface PendingUpload {
  readonly id: string;
  readonly filename: string;
  readonly length: number;
  readonly altText: string | undefined;
  bytes?: Buffer;
}

/**
 * A local stand-in for the part of Slack's Web API Convoy uses, close enough for the real
 * WebClient: Bearer token checked, form or JSON bodies, Slack's answers (`{ ok, channel, ts }`,
 * `{ ok: false, error }`). Messages: `chat.postMessage`, and `chat.update` refusing channel names as
 * Slack does. Files, as `files.uploadV2` drives them: `files.getUploadURLExternal` hands out an
 * absolute URL on this server, the bytes are POSTed there (raw or multipart), and
 * `files.completeUploadExternal` shares them, refusing a `#name` as `channel_id` as Slack does.
 * Channels: `users.conversations`, paged, lists every channel the server knows.
 */
export async function startSlackServer(options: SlackTestServerOptions): Promise<SlackTestServer> {
  const calls: SlackCall[] = [];
  const messages: SlackMessage[] = [];
  const uploads = new Map<string, PendingUpload>();
  const shared: SlackFile[] = [];
  const pageSize = options.pageSize ?? 100;
  const channelIds = new Map<string, string>();
  let rateLimited: { times: number; retryAfterSeconds: number; method?: string } = {
    times: 0,
    retryAfterSeconds: 1,
  };
  let failing: { times: number; status: number; method?: string } = { times: 0, status: 500 };
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
        method: pathOf(request).replace(/^upload\/.*/, 'upload'),
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
    readBody(request)
      .then((body) => answer(request, response, body))
      .catch(() => response.destroy());
  });

  async function answer(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
    const path = pathOf(request);
    const isUpload = path.startsWith('upload/');
    const method = isUpload ? 'upload' : path;
    const args = isUpload
      ? { file_id: path.slice('upload/'.length) }
      : parseArgs(request.headers['content-type'], body.toString('utf8'));
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

    if (rateLimited.times > 0 && (rateLimited.method ?? method) === method) {
      rateLimited.times--;
      record(429, 'rate_limited');
      json(
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(rateLimited.retryAfterSeconds) },
      );
      return;
    }
    if (failing.times > 0 && (failing.method ?? method) === method) {
      failing.times--;
      record(failing.status, 'failed');
      response.writeHead(failing.status, { 'content-type': 'text/html' });
      response.end(
        `<html><body>upstream failure; request headers: ${JSON.stringify(request.headers)}</body></html>`,
      );
      return;
    }
    if (isUpload) {
      // Slack's upload URLs carry their own authority; WebClient sends the bot token to them anyway.
      const upload = uploads.get(String(args.file_id));
      if (!upload || upload.bytes) {
        record(404, 'refused', 'upload_not_found');
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('Not Found');
        return;
      }
      upload.bytes = await fileBytes(request.headers['content-type'], body);
      record(200, 'uploaded');
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`OK - ${upload.bytes.length}`);
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

    const needed = neededScopes(method, args).filter(
      (scope) => options.scopes && !options.scopes.includes(scope),
    );
    if (needed.length > 0) {
      record(200, 'refused', 'missing_scope');
      json(200, {
        ok: false,
        error: 'missing_scope',
        needed: needed.join(','),
        provided: options.scopes?.join(','),
      });
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
    if (method === 'files.getUploadURLExternal') {
      const length = Number(args.length);
      if (typeof args.filename !== 'string' || !args.filename || !Number.isInteger(length) || length <= 0) {
        refuse('missing_argument');
        return;
      }
      const id = `F${String(uploads.size + 1).padStart(10, '0')}`;
      const altText = typeof args.alt_text === 'string' ? args.alt_text : undefined;
      uploads.set(id, { id, filename: args.filename, length, altText });
      record(200, 'issued');
      json(200, { ok: true, upload_url: `${origin}/upload/${id}`, file_id: id });
      return;
    }
    if (method === 'files.completeUploadExternal') {
      const files = Array.isArray(args.files) ? (args.files as { id?: unknown; title?: unknown }[]) : [];
      const target = typeof args.channel_id === 'string' ? args.channel_id : undefined;
      if (files.length === 0 || (target !== undefined && !CHANNEL_ID.test(target))) {
        refuse('invalid_arguments');
        return;
      }
      const completed = files.map((file) => ({ upload: uploads.get(String(file.id)), title: file.title }));
      if (completed.some(({ upload }) => !upload?.bytes)) {
        refuse('file_not_found');
        return;
      }
      const answered = completed.map(({ upload, title }) => {
        const { id, filename, altText, bytes } = upload as Required<PendingUpload>;
        const file = { id, filename, title: typeof title === 'string' ? title : filename, altText, bytes };
        if (target) shared.push({ ...file, channel: target });
        return { id, name: filename, title: file.title, channels: target ? [target] : [] };
      });
      record(200, 'shared');
      json(200, { ok: true, files: answered });
      return;
    }
    if (method === 'users.conversations') {
      const all = [...channelIds].map(([name, id]) => ({
        id,
        name: name.slice(1),
        is_channel: true,
        is_private: false,
        is_archived: false,
        is_member: true,
      }));
      const start = Number(args.cursor ?? 0) || 0;
      const limit = Math.min(Number(args.limit ?? 100) || 100, pageSize);
      const next = start + limit < all.length ? String(start + limit) : '';
      record(200, 'listed');
      json(200, {
        ok: true,
        channels: all.slice(start, start + limit),
        response_metadata: { next_cursor: next },
      });
      return;
    }
    refuse('unknown_method');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/api/`,
    calls,
    messages: (channel) => messages.filter((m) => channel === undefined || m.channel === channelId(channel)),
    files: (channel) => shared.filter((f) => channel === undefined || f.channel === channelId(channel)),
    channelId,
    rateLimit(times, retryAfterSeconds, method) {
      rateLimited = { times, retryAfterSeconds, ...(method ? { method } : {}) };
    },
    fail(times, status = 500, method) {
      failing = { times, status, ...(method ? { method } : {}) };
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

function neededScopes(method: string, args: Record<string, unknown>): string[] {
  if (method.startsWith('chat.')) return ['chat:write'];
  if (method.startsWith('files.')) return ['files:write'];
  if (method === 'users.conversations') {
    const types = String(args.types ?? 'public_channel').split(',');
    return [
      ...(types.includes('public_channel') ? ['channels:read'] : []),
      ...(types.includes('private_channel') ? ['groups:read'] : []),
    ];
  }
  return [];
}

/** The Web API method (`chat.postMessage`), or `upload/<file id>` for an upload URL. */
function pathOf(request: IncomingMessage): string {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  return path.replace(/^\/(api\/)?/, '');
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Slack takes an upload as raw bytes or as a multipart form; from a form, its (first) file. */
async function fileBytes(contentType: string | undefined, body: Buffer): Promise<Buffer> {
  if (!contentType?.startsWith('multipart/form-data')) return body;
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  throw new Error('a multipart upload without a file');
}

/** WebClient sends forms with nested values as JSON strings; other clients send JSON. */
function parseArgs(contentType: string | undefined, body: string): Record<string, unknown> {
  if (contentType?.includes('application/json')) {
    const parsed: unknown = body ? JSON.parse(body) : {};
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  const args: Record<string, unknown> = Object.fromEntries(new URLSearchParams(body));
  for (const name of ['blocks', 'attachments', 'metadata', 'files']) {
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
