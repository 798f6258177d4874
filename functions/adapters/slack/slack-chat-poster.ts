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
import type { ChatMessage, ChatPoster } from '../../core/ports.js';
import { ConsoleChatPoster } from './console-chat-poster.js';
import type { MessageRefs } from './message-refs.js';

export interface SlackChatPosterOptions {
  /** The bot token (`xoxb-…`). It is sent only in the Authorization header and never appears in errors. */
  readonly token: string;
  /** Where the message references live, so a retried post updates instead of posting again. */
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
   * How long one post may wait out 429 answers before it gives up with a retryable
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
 * Posts Convoy's messages with Slack's WebClient. The client's own retries are off: it would retry
 * a 5xx or a dropped connection by itself, and a `chat.postMessage` that Slack may already have
 * carried out must not be sent again blindly. Instead, 429s (never carried out) are waited out here
 * within a budget, and every other failure goes back to the caller as a classified
 * `IntegrationError`; the caller's retry finds the stored `ts` when the first attempt did post, and
 * updates that message instead of posting another.
 */
export class SlackChatPoster implements ChatPoster {
  private readonly client: WebClient;
  private readonly pacer: ChannelPacer;
  private readonly rateLimitBudgetMs: number;
  private readonly refs: MessageRefs;
  private readonly token: string;
  private readonly apiUrl: string;

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
        const updated = await this.call(lane, 'chat.update', {
          channel: ref.channel,
          ts: ref.ts,
          ...content,
        });
        if (updated) return ref.ts;
        // The message was deleted in Slack since: post it again rather than lose the update.
      }
      const posted = await this.call(lane, 'chat.postMessage', {
        channel,
        ...content,
        unfurl_links: false,
        unfurl_media: false,
      });
      if (!posted) throw new IntegrationError(`Slack chat.postMessage to ${channel} found no message`, false);
      await this.refs.put(key, posted.channel, posted.ts);
      return posted.ts;
    });
  }

  /** One Web API call, paced, with 429s waited out; `undefined` when chat.update finds no message. */
  private async call(
    lane: Lane,
    method: 'chat.postMessage' | 'chat.update',
    args: Record<string, unknown>,
  ): Promise<SlackResult | undefined> {
    const started = Date.now();
    for (;;) {
      await this.pacer.ready(lane);
      try {
        const result = (await this.client.apiCall(method, args)) as { channel?: unknown; ts?: unknown };
        this.pacer.done(lane);
        if (typeof result.ts !== 'string' || typeof result.channel !== 'string') {
          throw new IntegrationError(`Slack ${method} answered ok without a channel and ts`, false);
        }
        return { channel: result.channel, ts: result.ts };
      } catch (error) {
        if (error instanceof IntegrationError) throw error;
        if (
          method === 'chat.update' &&
          error instanceof WebAPIPlatformError &&
          error.data.error === 'message_not_found'
        ) {
          this.pacer.done(lane);
          return undefined;
        }
        const failure = this.classify(method, String(args.channel), error);
        this.pacer.done(lane, failure.retryAfterMs);
        const waited = Date.now() - started;
        if (failure.status === 429 && waited + (failure.retryAfterMs ?? 0) <= this.rateLimitBudgetMs)
          continue;
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
          `${what} was refused (${code}): check CONVOY_SLACK_BOT_TOKEN and the app's chat:write scope`,
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
}

/** The poster for a configuration: Slack with a bot token, the console without one. */
export function createChatPoster(config: ChatPosterConfig): ChatPoster {
  return config.botToken
    ? new SlackChatPoster({
        token: config.botToken,
        refs: config.refs,
        ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}),
      })
    : new ConsoleChatPoster(config.print);
}
