import { createHmac, randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type Logger, LogLevel } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { taskBlockedMessage, taskDoneMessage } from '../../functions/adapters/slack/blocks.js';
import { ConsoleChatPoster } from '../../functions/adapters/slack/console-chat-poster.js';
import { DynamoDbMessageRefs } from '../../functions/adapters/slack/message-refs.js';
import {
  createChatPoster,
  SlackChatPoster,
  type SlackChatPosterOptions,
} from '../../functions/adapters/slack/slack-chat-poster.js';
import { signSlackRequest, verifySlackRequest } from '../../functions/adapters/slack/verify-request.js';
import { IntegrationError } from '../../functions/core/integrations/model.js';
import type { ChatMessage } from '../../functions/core/ports.js';
import { createTestTable, type TestTable } from '../support/dynamodb.js';
import { type SlackCall, type SlackTestServer, startSlackServer } from '../support/slack-server.js';

const TOKEN = `xoxb-test-${randomUUID()}`;

let table: TestTable;
let documents: DynamoDBDocumentClient;
let slack: SlackTestServer | undefined;

beforeAll(async () => {
  table = await createTestTable();
  documents = DynamoDBDocumentClient.from(table.client);
});

afterAll(() => {
  table.client.destroy();
});

afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

function running(): SlackTestServer {
  if (!slack) throw new Error('start the Slack test server first');
  return slack;
}

/** A poster against the test server; pacing is shortened unless a test is about it. */
function poster(options: Partial<SlackChatPosterOptions> = {}): SlackChatPoster {
  return new SlackChatPoster({
    token: TOKEN,
    slackApiUrl: running().url,
    refs: new DynamoDbMessageRefs(documents, table.tableName),
    minIntervalMs: 50,
    ...options,
  });
}

const done = (title: string): ChatMessage =>
  taskDoneMessage({ project: 'payments', task: { id: 'api-1', title } });

/** Milliseconds between consecutive calls. */
const gaps = (calls: readonly SlackCall[]) => calls.slice(1).map((call, i) => call.at - (calls[i]?.at ?? 0));

async function failure(promise: Promise<unknown>): Promise<IntegrationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(IntegrationError);
  return error as IntegrationError;
}

describe('SlackChatPoster', () => {
  it('posts a message with the bot token and returns the ts Slack gave it', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const message = done('Build the API');

    // Act
    const ts = await poster().post('#payments', message, `post-${randomUUID()}`);

    // Assess
    expect(slack.messages('#payments')).toEqual([
      { channel: slack.channelId('#payments'), ts, text: message.text, blocks: message.blocks, updates: 0 },
    ]);
    expect(slack.calls).toMatchObject([
      { method: 'chat.postMessage', authorization: `Bearer ${TOKEN}`, outcome: 'posted' },
    ]);
  });

  it('updates the message posted earlier under the same key instead of posting another', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const key = `update-${randomUUID()}`;
    const chat = poster();
    const first = await chat.post('#payments', done('Build the API'), key);

    // Act: the job runs again (a retry) with newer content, through a new poster as a new Lambda would
    const second = await poster().post('#payments', done('Build the API (v2)'), key);

    // Assess
    expect(second).toBe(first);
    expect(slack.messages()).toHaveLength(1);
    expect(slack.messages()[0]).toMatchObject({ text: done('Build the API (v2)').text, updates: 1 });
    expect(slack.calls.map((call) => [call.method, call.outcome, call.args.channel])).toEqual([
      ['chat.postMessage', 'posted', '#payments'],
      // chat.update takes channel ids only: the id Slack answered the post with
      ['chat.update', 'updated', slack.channelId('#payments')],
    ]);
  });

  it('posts once when two posts with one key race each other', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const chat = poster();
    const key = `race-${randomUUID()}`;

    // Act
    const [first, second] = await Promise.all([
      chat.post('#payments', done('first'), key),
      chat.post('#payments', done('second'), key),
    ]);

    // Assess
    expect(second).toBe(first);
    expect(slack.calls.map((call) => call.outcome)).toEqual(['posted', 'updated']);
    expect(slack.messages().map((m) => m.text)).toEqual([done('second').text]);
  });

  it('posts anew when the message posted under the key was deleted in Slack', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const key = `deleted-${randomUUID()}`;
    const first = await poster().post('#payments', done('one'), key);
    slack.deleteMessage('#payments', first);

    // Act
    const second = await poster().post('#payments', done('two'), key);
    const third = await poster().post('#payments', done('three'), key);

    // Assess
    expect(second).not.toBe(first);
    expect(third).toBe(second);
    expect(slack.messages().map((m) => m.text)).toEqual([done('three').text]);
  });

  it('sends at most one message per second per channel, in order, while two channels interleave', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const chat = poster({ minIntervalMs: 1000 });

    // Act: three posts to each of two channels at once
    await Promise.all(
      ['#alpha', '#beta'].flatMap((channel) =>
        [1, 2, 3].map((n) => chat.post(channel, done(`${channel} ${n}`), `pace-${randomUUID()}`)),
      ),
    );

    // Assess
    for (const channel of ['#alpha', '#beta']) {
      const calls = slack.calls.filter((call) => call.args.channel === channel);
      expect(calls.map((call) => call.args.text)).toEqual([1, 2, 3].map((n) => done(`${channel} ${n}`).text));
      for (const gap of gaps(calls)) expect(gap).toBeGreaterThanOrEqual(1000);
    }
    // Interleaved: both channels' first messages went out before either channel's second.
    expect(slack.calls.slice(0, 2).map((call) => call.args.channel)).toEqual(
      expect.arrayContaining(['#alpha', '#beta']),
    );
    // One channel's pace, not two channels' one after the other: at every point of the run neither
    // channel is more than one message ahead of the other.
    let lead = 0;
    for (const call of slack.calls) {
      lead += call.args.channel === '#alpha' ? 1 : -1;
      expect(Math.abs(lead)).toBeLessThanOrEqual(1);
    }
  });

  it('waits out a 429 storm as Retry-After asks and then posts exactly once', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    slack.rateLimit(3, 1);

    // Act
    const ts = await poster({ minIntervalMs: 1000 }).post(
      '#payments',
      done('storm'),
      `storm-${randomUUID()}`,
    );

    // Assess
    expect(slack.calls.map((call) => call.outcome)).toEqual([
      'rate_limited',
      'rate_limited',
      'rate_limited',
      'posted',
    ]);
    for (const gap of gaps(slack.calls)) expect(gap).toBeGreaterThanOrEqual(1000);
    expect(slack.messages().map((m) => m.ts)).toEqual([ts]);
  });

  it('gives up with a retryable error carrying Retry-After when a 429 storm outlasts its budget', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    slack.rateLimit(1, 1);
    const chat = poster({ rateLimitBudgetMs: 500 });
    const key = `budget-${randomUUID()}`;

    // Act: the caller (a job queue) retries once Retry-After has passed
    const error = await failure(chat.post('#payments', done('later'), key));
    await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
    await chat.post('#payments', done('later'), key);

    // Assess
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 1000, status: 429 });
    expect(error.message).toMatch(/rate-limited/);
    expect(slack.calls.map((call) => call.outcome)).toEqual(['rate_limited', 'posted']);
    expect(slack.messages()).toHaveLength(1);
  });

  it('reports Slack down as retryable and posts once when the caller retries after it is back', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const chat = poster();
    const key = `down-${randomUUID()}`;
    slack.down();

    // Act
    const error = await failure(chat.post('#payments', done('outage'), key));
    slack.up();
    const ts = await chat.post('#payments', done('outage'), key);
    const again = await chat.post('#payments', done('outage'), key);

    // Assess
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toMatch(/could not reach/);
    expect(slack.calls.map((call) => call.outcome)).toEqual(['dropped', 'posted', 'updated']);
    expect(again).toBe(ts);
    expect(slack.messages()).toHaveLength(1);
  });

  it('reports an HTTP 500 as retryable and posts once when the caller retries', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    slack.fail(1, 500);
    const chat = poster();
    const key = `fail-${randomUUID()}`;

    // Act
    const error = await failure(chat.post('#payments', done('flaky'), key));
    await chat.post('#payments', done('flaky'), key);

    // Assess
    expect(error).toMatchObject({ retryable: true, status: 500 });
    expect(slack.calls.map((call) => call.outcome)).toEqual(['failed', 'posted']);
    expect(slack.messages()).toHaveLength(1);
  });

  it('refuses a wrong token as not retryable and says what to fix', async () => {
    // Prepare
    slack = await startSlackServer({ token: 'xoxb-the-right-one' });

    // Act
    const error = await failure(poster().post('#payments', done('x'), `auth-${randomUUID()}`));

    // Assess
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toMatch(/invalid_auth.*CONVOY_SLACK_BOT_TOKEN/);
    expect(slack.messages()).toHaveLength(0);
  });

  it('never lets the bot token into an error or a log line', async () => {
    // Prepare: every failure kind, with a server whose error pages echo the request headers
    slack = await startSlackServer({ token: 'xoxb-the-right-one' });
    const lines: string[] = [];
    const capture = (...parts: unknown[]) => lines.push(parts.map((part) => JSON.stringify(part)).join(' '));
    const logger: Logger = {
      debug: capture,
      info: capture,
      warn: capture,
      error: capture,
      setLevel: () => undefined,
      getLevel: () => LogLevel.DEBUG,
      setName: () => undefined,
    };
    const chat = poster({ logger, rateLimitBudgetMs: 0 });
    const errors: IntegrationError[] = [];

    // Act
    errors.push(await failure(chat.post('#payments', done('x'), `leak-${randomUUID()}`)));
    slack.fail(1, 500);
    errors.push(await failure(chat.post('#payments', done('x'), `leak-${randomUUID()}`)));
    slack.rateLimit(1, 1);
    errors.push(await failure(chat.post('#payments', done('x'), `leak-${randomUUID()}`)));
    slack.down();
    errors.push(await failure(chat.post('#payments', done('x'), `leak-${randomUUID()}`)));

    // Assess
    expect(slack.calls.map((call) => call.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
    ]);
    expect(lines.length).toBeGreaterThan(0);
    const everything = [
      ...errors.flatMap((error) => [error.message, String(error), error.stack, JSON.stringify(error)]),
      ...lines,
    ].join('\n');
    expect(everything).not.toContain(TOKEN);
  });
});

describe('DynamoDbMessageRefs', () => {
  it('keeps a reference for 30 days under the Slack message key', async () => {
    // Prepare
    const now = new Date('2025-03-01T12:00:00Z');
    const refs = new DynamoDbMessageRefs(documents, table.tableName, { clock: { now: () => now } });
    const key = `ref-${randomUUID()}`;

    // Act
    await refs.put(key, 'C000000001', '1740830400.000001');

    // Assess
    expect(await refs.get(key)).toEqual({ channel: 'C000000001', ts: '1740830400.000001' });
    const { Item } = await documents.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `SLACKMSG#${key}`, sk: 'MESSAGE' } }),
    );
    expect(Item?.expiresAt).toBe(now.getTime() / 1000 + 30 * 24 * 60 * 60);
  });

  it('treats a reference past its expiry as gone before DynamoDB deletes it', async () => {
    // Prepare
    let now = new Date('2025-03-01T12:00:00Z');
    const refs = new DynamoDbMessageRefs(documents, table.tableName, { clock: { now: () => now } });
    const key = `expired-${randomUUID()}`;
    await refs.put(key, 'C000000001', '1740830400.000001');

    // Act
    now = new Date('2025-03-31T12:00:01Z');
    const ref = await refs.get(key);

    // Assess
    expect(ref).toBeUndefined();
  });

  it('finds nothing for a key never stored', async () => {
    const refs = new DynamoDbMessageRefs(documents, table.tableName);
    expect(await refs.get(`never-${randomUUID()}`)).toBeUndefined();
  });
});

describe('ConsoleChatPoster', () => {
  it('prints a header line and the text of each block, and an update under the same key', async () => {
    // Prepare
    const lines: string[] = [];
    const chat = new ConsoleChatPoster((line) => lines.push(line), {
      now: () => new Date('2025-03-01T12:00:00Z'),
    });
    const blocked = taskBlockedMessage({
      project: 'payments',
      task: { id: 'db-2', title: 'Migrate <ledger>' },
      reason: 'DBA & access',
    });

    // Act
    const first = await chat.post('#payments', blocked, 'k');
    const second = await chat.post('#payments', blocked, 'k');

    // Assess
    expect(second).toBe(first);
    expect(first).toBe('1740830400.000001');
    const printed = lines.slice(0, lines.length / 2);
    expect(printed).toEqual([
      '[slack #payments] new message 1740830400.000001: ⛔ Task db-2 is blocked: DBA & access',
      '  ⛔ Blocked: Migrate <ledger>',
      '  *Task*',
      '  `db-2` Migrate <ledger>',
      '  *Reason*',
      '  DBA & access',
      '  Convoy · project `payments`',
    ]);
    expect(lines[printed.length]).toBe(
      '[slack #payments] updates message 1740830400.000001: ⛔ Task db-2 is blocked: DBA & access',
    );
  });

  it('is what a configuration without a bot token gets', () => {
    // Act
    const withToken = createChatPoster({
      botToken: TOKEN,
      refs: new DynamoDbMessageRefs(documents, table.tableName),
      print: () => undefined,
    });
    const without = createChatPoster({
      refs: new DynamoDbMessageRefs(documents, table.tableName),
      print: () => undefined,
    });

    // Assess
    expect(withToken).toBeInstanceOf(SlackChatPoster);
    expect(without).toBeInstanceOf(ConsoleChatPoster);
  });
});

describe('verifySlackRequest', () => {
  const SECRET = 'convoy-test-signing-secret-0123456789';
  const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
  const NOW = new Date('2025-03-01T12:00:00Z');
  const nowSeconds = NOW.getTime() / 1000;

  /** Signed independently of the code under test, as Slack documents it. */
  const signed = (timestamp: number, body = BODY, secret = SECRET) => ({
    headers: {
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`,
    },
    rawBody: body,
  });

  it("accepts Slack's documented example request", () => {
    // Prepare: docs.slack.dev, "Verifying requests from Slack"
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const request = {
      headers: {
        'x-slack-request-timestamp': '1531420618',
        'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      },
      rawBody: Buffer.from(body),
    };

    // Act
    const result = verifySlackRequest(
      request,
      '8f742231b10e8888abcd99yyyzzz85a5',
      new Date(1531420618_000 + 30_000),
    );

    // Assess
    expect(result).toEqual({ valid: true });
  });

  it('accepts a correctly signed request, whatever the case of the header names', () => {
    // Act
    const result = verifySlackRequest(signed(nowSeconds - 10), SECRET, NOW);

    // Assess
    expect(result).toEqual({ valid: true });
    expect(signSlackRequest(SECRET, nowSeconds - 10, BODY)).toBe(
      signed(nowSeconds - 10).headers['X-Slack-Signature'],
    );
  });

  it('rejects a signature made with another secret, without echoing the secret', () => {
    // Act
    const result = verifySlackRequest(signed(nowSeconds, BODY, 'someone-elses-secret'), SECRET, NOW);

    // Assess
    expect(result).toEqual({
      valid: false,
      reason: 'X-Slack-Signature does not match the body: check CONVOY_SLACK_SIGNING_SECRET',
    });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('rejects a body changed after signing', () => {
    // Prepare
    const request = { ...signed(nowSeconds), rawBody: `${BODY}&extra=1` };

    // Act
    const result = verifySlackRequest(request, SECRET, NOW);

    // Assess
    expect(result).toMatchObject({ valid: false, reason: expect.stringMatching(/does not match/) });
  });

  it('rejects a request missing either header', () => {
    // Prepare
    const { headers } = signed(nowSeconds);

    // Act
    const noSignature = verifySlackRequest(
      { headers: { 'X-Slack-Request-Timestamp': headers['X-Slack-Request-Timestamp'] }, rawBody: BODY },
      SECRET,
      NOW,
    );
    const noTimestamp = verifySlackRequest(
      { headers: { 'X-Slack-Signature': headers['X-Slack-Signature'] }, rawBody: BODY },
      SECRET,
      NOW,
    );

    // Assess
    expect(noSignature).toEqual({ valid: false, reason: 'the X-Slack-Signature header is missing' });
    expect(noTimestamp).toEqual({ valid: false, reason: 'the X-Slack-Request-Timestamp header is missing' });
  });

  it('rejects a signature that is not v0 and a timestamp that is not a number', () => {
    // Act
    const v1 = verifySlackRequest(
      { headers: { ...signed(nowSeconds).headers, 'X-Slack-Signature': 'v1=abc' }, rawBody: BODY },
      SECRET,
      NOW,
    );
    const words = verifySlackRequest(
      { headers: { ...signed(nowSeconds).headers, 'X-Slack-Request-Timestamp': 'yesterday' }, rawBody: BODY },
      SECRET,
      NOW,
    );

    // Assess
    expect(v1).toMatchObject({ valid: false, reason: expect.stringMatching(/not a v0 signature/) });
    expect(words).toMatchObject({ valid: false, reason: expect.stringMatching(/not a Unix time/) });
  });

  it('rejects a correctly signed request with a timestamp more than 5 minutes old or ahead', () => {
    // Act
    const stale = verifySlackRequest(signed(nowSeconds - 301), SECRET, NOW);
    const ahead = verifySlackRequest(signed(nowSeconds + 301), SECRET, NOW);

    // Assess
    expect(stale).toMatchObject({ valid: false, reason: expect.stringMatching(/signed 301 s ago.*replay/) });
    expect(ahead).toMatchObject({ valid: false, reason: expect.stringMatching(/301 s in the future/) });
  });

  it('accepts a captured request replayed within 5 minutes but rejects it once 5 minutes have passed', () => {
    // Prepare: a genuine request, captured
    const captured = signed(nowSeconds);

    // Act
    const soon = verifySlackRequest(captured, SECRET, new Date(NOW.getTime() + 300_000));
    const late = verifySlackRequest(captured, SECRET, new Date(NOW.getTime() + 301_000));

    // Assess
    expect(soon).toEqual({ valid: true });
    expect(late).toMatchObject({ valid: false, reason: expect.stringMatching(/replay/) });
  });

  it('refuses everything when no signing secret is configured', () => {
    expect(verifySlackRequest(signed(nowSeconds, BODY, ''), '', NOW)).toEqual({
      valid: false,
      reason: 'no Slack signing secret is configured: set CONVOY_SLACK_SIGNING_SECRET',
    });
  });
});
