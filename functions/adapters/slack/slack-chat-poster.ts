import {
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { IntegrationError } from '../../core/integrations/model.js';
import type { ChatFile, ChatMessage, ChatPoster } from '../../core/ports.js';
import { ConsoleChatPoster } from './console-chat-poster.js';
import type { MessageRefs } from './message-refs.js';

export interface SlackChatPosterOptions {
  /** The bot token (`xoxb-…`). It is sent only in the Authorization header and never appears in errors. */
  readonly token: string;
  /**
   * Where the message references live, so a retried post updates instead of posting again, and a
   * retried upload shares nothing new (files are kept under `file:<key>`, the file id as the `ts`).
   */
  readonly refs: MessageRefs;
  /**
   * Base URL of Slack's Web API; tests and self-hosted proxies point it elsewhere.
   * @default 'https://slack.com/api/'
   */
  readonly slackApiUrl?: string;
  /**
   * Least time between the end of one request to a channel and the start of the next. Slack allows
   * about one message per second per channel.
   * @default 1000
   */
  readonly minIntervalMs?: number;
  /**
   * How long one post or upload may wait out 429 answers before it gives up with a retryable
   * `IntegrationError` carrying `retryAfterMs`, so the job is retried later instead of holding a Lambda.
   * @default 30_000
   */
  readonly rateLimitBudgetMs?: number;
  /**
   * A request taking longer is abandoned and reported as retryable.
   * @default 10_000
   */
  readonly timeoutMs?: number;
  /** @default WebClient's console logger at ERROR level */
  readonly logger?: Logger;
}

interface Lane {
  /** The work queued on this channel; each post chains onto it. */
  tail: Promise<unknown>;
  /** Epoch ms before which no request may go to this channel. */
  notBefore: number;
  queued: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * At most one request at a time per channel, at most one per `intervalMs`, in the order posts
 * arrived. Channels do not wait for each other.
 */
class ChannelPacer {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly intervalMs: number) {}

  serialize<T>(channel: string, work: (lane: Lane) => Promise<T>): Promise<T> {
    if (this.lanes.size > 1000) this.forgetIdleLanes();
    let lane = this.lanes.get(channel);
    if (!lane) {
      lane = { tail: Promise.resolve(), notBefore: 0, queued: 0 };
      this.lanes.set(channel, lane);
    }
    const current = lane;
    current.queued++;
    const run = current.tail.then(() => work(current));
    current.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run.finally(() => {
      current.queued--;
    });
  }

  /** Waits until the channel may take the next request. */
  async ready(lane: Lane): Promise<void> {
    for (let wait = lane.notBefore - Date.now(); wait > 0; wait = lane.notBefore - Date.now())
      await sleep(wait);
  }

  /** Records that a request to the channel just ended; `waitMs` beyond the interval after a 429. */
  done(lane: Lane, waitMs = 0): void {
    lane.notBefore = Date.now() + Math.max(this.intervalMs, waitMs);
  }

  private forgetIdleLanes(): void {
    const now = Date.now();
    for (const [channel, lane] of this.lanes) {
      if (lane.queued === 0 && lane.notBefore <= now) this.lanes.delete(channel);
    }
  }
}

type SlackResult = { channel: string; ts: string };

/**
 * What to check when Slack refuses the token for a call: the bot token scopes the call needs. Sharing
 * a file also needs the app to be a member of the channel (`chat:write.public` does not cover files).
 */
const SCOPE_ADVICE: Readonly<Record<string, string>> = {
  'chat.postMessage': "the app's chat:write scope",
  'chat.update': "the app's chat:write scope",
  'files.uploadV2': "the app's files:write scope",
  'users.conversations':
    "the app's channels:read and groups:read scopes (needed to find a #channel's id), or give the channel by id",
};

/** What `files.completeUploadExternal` takes as `channel_id`; a `#name` gets `invalid_arguments`. */
const CHANNEL_ID = /^[CGDZ][A-Z0-9]{8,}$/;
/** Least time between two `users.conversations` listings made because a name was not found. */
const RELIST_AFTER_MS = 60_000;

const AUTH_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
]);
const CHANNEL_ERRORS = new Set(['channel_not_found', 'not_in_channel', 'is_archived']);
const TRANSIENT_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/**
 * Posts Convoy's messages and shares its files with Slack's WebClient. The client's own retries are
 * off: it would retry a 5xx or a dropped connection by itself, and a `chat.postMessage` or
 * `files.completeUploadExternal` that Slack may already have carried out must not be sent again
 * blindly. Instead, 429s (never carried out) are waited out here within a budget, and every other
 * failure goes back to the caller as a classified `IntegrationError`; the caller's retry finds the
 * stored `ts` (or file id) when the first attempt did post (or share), and updates that message
 * (or shares nothing) instead of posting another.
 *
 * Bot token scopes: `chat:write` to post; `files:write` to share files, in channels the app is a
 * member of; `channels:read` (and `groups:read` for private channels) only when files are shared to
 * a channel given by `#name` that this poster has not posted to (see {@link SlackChatPoster.upload}).
 */
export class SlackChatPoster implements ChatPoster {
  private readonly client: WebClient;
  private readonly pacer: ChannelPacer;
  private readonly rateLimitBudgetMs: number;
  private readonly refs: MessageRefs;
  private readonly token: string;
  private readonly apiUrl: string;
  /** `#name` → channel id, learned from chat.postMessage answers and users.conversations. */
  private readonly channelIds = new Map<string, string>();
  /** The users.conversations listing under way, shared by concurrent lookups. */
  private listing: Promise<void> | undefined;
  private listedAt = 0;

  constructor(options: SlackChatPosterOptions) {
    if (!options.token) throw new Error('no Slack bot token: set CONVOY_SLACK_BOT_TOKEN');
    this.token = options.token;
    this.refs = options.refs;
    this.apiUrl = options.slackApiUrl ?? 'https://slack.com/api/';
    this.rateLimitBudgetMs = options.rateLimitBudgetMs ?? 30_000;
    this.pacer = new ChannelPacer(options.minIntervalMs ?? 1000);
    this.client = new WebClient(options.token, {
      slackApiUrl: this.apiUrl,
      retryConfig: { retries: 0 },
      // With `false`, WebClient sleeps out Retry-After, pausing every call of the client, then retries
      // on its own schedule; here a 429 surfaces at once so the per-channel pacer owns the waiting.
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 10_000,
      allowAbsoluteUrls: false,
      ...(options.logger ? { logger: options.logger } : { logLevel: LogLevel.ERROR }),
    });
  }

  post(channel: string, message: ChatMessage, key: string): Promise<string> {
    // The reference is read inside the channel's queue, so two posts with one key never both post.
    return this.pacer.serialize(channel, async (lane) => {
      const content = { text: message.text, blocks: message.blocks };
      const ref = await this.refs.get(key);
      if (ref) {
        const updated = await this.call(lane, 'chat.update', ref.channel, {
          channel: ref.channel,
          ts: ref.ts,
          ...content,
        });
        if (updated) return ref.ts;
        // The message was deleted in Slack since: post it again rather than lose the update.
      }
      const posted = await this.call(lane, 'chat.postMessage', channel, {
        channel,
        ...content,
        unfurl_links: false,
        unfurl_media: false,
      });
      if (!posted) throw new IntegrationError(`Slack chat.postMessage to ${channel} found no message`, false);
      if (channel.startsWith('#')) this.channelIds.set(channel, posted.channel);
      await this.refs.put(key, posted.channel, posted.ts);
      return posted.ts;
    });
  }

  /**
   * Shares the file with `files.uploadV2` (files.getUploadURLExternal, a POST of the bytes to the
   * absolute `upload_url` it answers, files.completeUploadExternal), paced with the channel's posts.
   * The file id is stored under `file:<key>` once Slack has shared it, so a retry after a success
   * shares nothing new. As with chat.postMessage, an answer lost after Slack completed the upload
   * (a 5xx or dropped connection on the last call) leaves no id behind, and the retry shares again.
   *
   * files.completeUploadExternal takes a channel id only. A `#name` is resolved from what this
   * poster learned posting to it (chat.postMessage answers with the id, and a report is posted
   * before its chart), else from users.conversations: the channels the app is a member of, which
   * are the only ones it may share files in. That listing is made once per poster (and again at
   * most once a minute when a name is missing from it); it needs `channels:read`, and
   * `groups:read` to find private channels (without it, public channels are listed alone). Plans
   * that give channel ids need neither.
   */
  upload(channel: string, file: ChatFile, key: string): Promise<string> {
    return this.pacer.serialize(channel, async (lane) => {
      const refKey = `file:${key}`;
      const ref = await this.refs.get(refKey);
      if (ref) return ref.ts;
      if (file.bytes.byteLength === 0) {
        throw new IntegrationError(
          `Slack upload of ${file.filename} to ${channel}: the file is empty`,
          false,
        );
      }
      const channelId = await this.resolve(channel);
      const shared = await this.share(lane, channel, channelId, file);
      await this.refs.put(refKey, channelId, shared);
      return shared;
    });
  }

  private async share(lane: Lane, channel: string, channelId: string, file: ChatFile): Promise<string> {
    const result = await this.paced(lane, 'files.uploadV2', channel, async () => {
      try {
        return await this.client.files.uploadV2({
          channel_id: channelId,
          // uploadV2 takes binary data only as a Buffer (a string would be read as a path).
          file: Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength),
          filename: file.filename,
          title: file.title,
          ...(file.altText ? { alt_text: file.altText } : {}),
        });
      } catch (error) {
        // A channel renamed or deleted since its id was learned: look the name up afresh next time.
        if (error instanceof WebAPIPlatformError && CHANNEL_ERRORS.has(error.data.error))
          this.channelIds.delete(channel);
        throw error;
      }
    });
    // uploadV2 answers { ok, files: [<one files.completeUploadExternal answer per channel>] }.
    const completions = (result as { files?: { files?: { id?: unknown }[] }[] }).files;
    const id = completions?.[0]?.files?.[0]?.id;
    if (typeof id !== 'string') {
      throw new IntegrationError(`Slack files.uploadV2 to ${channel} answered ok without a file id`, false);
    }
    return id;
  }

  /** The channel id for a channel id or `#name`. */
  private async resolve(channel: string): Promise<string> {
    if (CHANNEL_ID.test(channel)) return channel;
    const known = this.channelIds.get(channel);
    if (known) return known;
    if (!this.listing && (this.listedAt === 0 || Date.now() - this.listedAt >= RELIST_AFTER_MS)) {
      this.listing = this.listChannels(channel).finally(() => {
        this.listing = undefined;
      });
    }
    await this.listing;
    const listed = this.channelIds.get(channel);
    if (listed) return listed;
    throw new IntegrationError(
      `Slack upload to ${channel} found no such channel among those the Convoy app is a member of: check the channel exists and invite the Convoy app to it`,
      false,
    );
  }

  /** Learns the ids of every channel the app is a member of. */
  private async listChannels(forChannel: string): Promise<void> {
    await this.paced(undefined, 'users.conversations', forChannel, async () => {
      try {
        await this.collectChannels('public_channel,private_channel');
      } catch (error) {
        if (!(error instanceof WebAPIPlatformError && error.data.error === 'missing_scope')) throw error;
        // Slack refuses the whole listing without groups:read; public channels need only channels:read.
        await this.collectChannels('public_channel');
      }
    });
    this.listedAt = Date.now();
  }

  private async collectChannels(types: string): Promise<void> {
    const pages = this.client.paginate('users.conversations', { types, exclude_archived: true, limit: 200 });
    for await (const page of pages) {
      for (const entry of (page as { channels?: { id?: unknown; name?: unknown }[] }).channels ?? []) {
        if (typeof entry.id === 'string' && typeof entry.name === 'string')
          this.channelIds.set(`#${entry.name}`, entry.id);
      }
    }
  }

  /** One chat call, paced, with 429s waited out; `undefined` when chat.update finds no message. */
  private call(
    lane: Lane,
    method: 'chat.postMessage' | 'chat.update',
    channel: string,
    args: Record<string, unknown>,
  ): Promise<SlackResult | undefined> {
    return this.paced(lane, method, channel, async () => {
      let result: { channel?: unknown; ts?: unknown };
      try {
        result = (await this.client.apiCall(method, args)) as { channel?: unknown; ts?: unknown };
      } catch (error) {
        if (
          method === 'chat.update' &&
          error instanceof WebAPIPlatformError &&
          error.data.error === 'message_not_found'
        )
          return undefined;
        throw error;
      }
      if (typeof result.ts !== 'string' || typeof result.channel !== 'string') {
        throw new IntegrationError(`Slack ${method} answered ok without a channel and ts`, false);
      }
      return { channel: result.channel, ts: result.ts };
    });
  }

  /**
   * Runs `attempt` when the channel's lane is ready (unpaced without a lane), waiting out 429s
   * within the budget; any other failure is thrown classified.
   */
  private async paced<T>(
    lane: Lane | undefined,
    method: string,
    channel: string,
    attempt: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    for (;;) {
      if (lane) await this.pacer.ready(lane);
      try {
        const result = await attempt();
        if (lane) this.pacer.done(lane);
        return result;
      } catch (error) {
        const failure = error instanceof IntegrationError ? error : this.classify(method, channel, error);
        if (lane) this.pacer.done(lane, failure.retryAfterMs);
        const waited = Date.now() - started;
        const wait = failure.retryAfterMs ?? 0;
        if (failure.status === 429 && waited + wait <= this.rateLimitBudgetMs) {
          if (!lane) await sleep(wait);
          continue;
        }
        throw failure;
      }
    }
  }

  private classify(method: string, channel: string, error: unknown): IntegrationError {
    const what = `Slack ${method} to ${channel}`;
    const make = (message: string, retryable: boolean, retryAfterMs?: number, status?: number) =>
      new IntegrationError(this.redact(message), retryable, retryAfterMs, status);
    if (error instanceof WebAPIRateLimitedError) {
      return make(
        `${what} was rate-limited; retry after ${error.retryAfter} s`,
        true,
        error.retryAfter * 1000,
        429,
      );
    }
    if (error instanceof WebAPIHTTPError) {
      const retryAfter = Number.parseInt(error.headers['retry-after'] ?? '', 10);
      const retryAfterMs = Number.isNaN(retryAfter) ? undefined : retryAfter * 1000;
      const retryable = error.statusCode >= 500 || error.statusCode === 408;
      return make(
        `${what} failed with HTTP ${error.statusCode}${retryable ? '; Slack may be down, retry later' : ''}`,
        retryable,
        retryAfterMs,
        error.statusCode,
      );
    }
    if (error instanceof WebAPIRequestError) {
      return make(`${what} could not reach ${this.apiUrl} (${error.original.message}); retry later`, true);
    }
    if (error instanceof WebAPIPlatformError) {
      const code = error.data.error;
      if (code === 'ratelimited') return make(`${what} was rate-limited`, true, 1000, 429);
      if (TRANSIENT_ERRORS.has(code))
        return make(`${what} failed: Slack reported ${code}; retry later`, true);
      if (AUTH_ERRORS.has(code)) {
        return make(
          `${what} was refused (${code}): check CONVOY_SLACK_BOT_TOKEN and ${SCOPE_ADVICE[method] ?? "the app's scopes"}`,
          false,
        );
      }
      if (CHANNEL_ERRORS.has(code)) {
        return make(
          `${what} was refused (${code}): check the channel exists and invite the Convoy app to it`,
          false,
        );
      }
      return make(`${what} was refused: Slack reported ${code}`, false);
    }
    const detail = error instanceof Error ? error.message : String(error);
    // WebClient rejects a 429 without a usable Retry-After with a plain Error; a 429 is never carried out.
    if (/retry header|rate limit/i.test(detail)) return make(`${what} was rate-limited`, true, 1000, 429);
    return make(`${what} failed unexpectedly: ${detail}`, false);
  }

  /** Belt and braces: nothing Slack or the network says may carry the token into an error. */
  private redact(text: string): string {
    return text.replaceAll(this.token, '[redacted token]');
  }
}

export interface ChatPosterConfig {
  /** CONVOY_SLACK_BOT_TOKEN; without it messages are printed instead of posted. */
  readonly botToken?: string;
  /** CONVOY_SLACK_API_URL. */
  readonly slackApiUrl?: string;
  readonly refs: MessageRefs;
  /** Where `convoy dev` prints messages when there is no token. */
  readonly print: (line: string) => void;
  /** Where `convoy dev` writes shared files (charts) when there is no token; by default they are only announced. */
  readonly fileDir?: string;
}

/** The poster for a configuration: Slack with a bot token, the console without one. */
export function createChatPoster(config: ChatPosterConfig): ChatPoster {
  return config.botToken
    ? new SlackChatPoster({
        token: config.botToken,
        refs: config.refs,
        ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}),
      })
    : new ConsoleChatPoster(config.print, config.fileDir ? { fileDir: config.fileDir } : {});
}
