import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { taskDoneMessage } from '../../functions/adapters/slack/blocks.js';
import { DynamoDbMessageRefs } from '../../functions/adapters/slack/message-refs.js';
import {
  SlackChatPoster,
  type SlackChatPosterOptions,
} from '../../functions/adapters/slack/slack-chat-poster.js';
import { IntegrationError } from '../../functions/core/integrations/model.js';
import type { ChatFile } from '../../functions/core/ports.js';
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

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * A chart: PNG's signature then bytes that are not UTF-8 (NUL, 0xFF, lone continuation bytes), handed
 * over as a view into a larger buffer, as a renderer's output may be.
 */
function chart(size = 3000): ChatFile {
  const backing = Buffer.concat([Buffer.from('padding!'), Buffer.from(PNG_SIGNATURE), randomBytes(size)]);
  return {
    filename: 'burndown.png',
    title: 'Burndown, sprint 20',
    altText: 'Remaining story points per day, falling from 40 to 12',
    bytes: new Uint8Array(backing.buffer, backing.byteOffset + 8, PNG_SIGNATURE.length + size),
  };
}

const outcomes = (calls: readonly SlackCall[]) => calls.map((call) => [call.method, call.outcome]);

async function failure(promise: Promise<unknown>): Promise<IntegrationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(IntegrationError);
  return error as IntegrationError;
}

describe('SlackChatPoster.upload', () => {
  it('shares a PNG in a channel byte for byte, with its title and alt text, through the absolute upload URL', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
    const file = chart();

    // Act
    const id = await poster().upload(channel, file, `chart-${randomUUID()}`);

    // Assess
    const [shared, ...others] = slack.files(channel);
    expect(others).toEqual([]);
    expect(shared).toMatchObject({
      id,
      channel,
      filename: 'burndown.png',
      title: 'Burndown, sprint 20',
      altText: file.altText,
    });
    expect(shared?.bytes.equals(Buffer.from(file.bytes))).toBe(true);
    expect(shared?.bytes.subarray(0, 8)).toEqual(Buffer.from(PNG_SIGNATURE));
    // WebClient was made with allowAbsoluteUrls: false, which only governs method names: it POSTs
    // the bytes to the absolute upload_url all the same.
    expect(outcomes(slack.calls)).toEqual([
      ['files.getUploadURLExternal', 'issued'],
      ['upload', 'uploaded'],
      ['files.completeUploadExternal', 'shared'],
    ]);
    expect(slack.calls[0]?.args).toMatchObject({
      filename: 'burndown.png',
      length: String(file.bytes.length),
    });
    expect(slack.calls[2]?.args).toMatchObject({ channel_id: channel, files: [{ id, title: file.title }] });
    expect(slack.calls.every((call) => call.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('shares once when the same key is uploaded again, even from a new poster', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
    const key = `once-${randomUUID()}`;
    const first = await poster().upload(channel, chart(), key);

    // Act: the outbox retries the job, in another Lambda
    const second = await poster().upload(channel, chart(), key);
    const third = await poster().upload(channel, chart(), key);

    // Assess
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(slack.files()).toHaveLength(1);
    expect(slack.calls.filter((call) => call.outcome === 'shared')).toHaveLength(1);
  });

  it('shares once when two uploads with one key race each other', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
    const chat = poster();
    const key = `race-${randomUUID()}`;

    // Act
    const [first, second] = await Promise.all([
      chat.upload(channel, chart(), key),
      chat.upload(channel, chart(), key),
    ]);

    // Assess
    expect(second).toBe(first);
    expect(slack.files()).toHaveLength(1);
  });

  it('shares to a #channel by the id its chat.postMessage answer gave, with no lookup', async () => {
    // Prepare: a report is posted before its chart
    slack = await startSlackServer({ token: TOKEN });
    const chat = poster();
    await chat.post(
      '#reports',
      taskDoneMessage({ project: 'payments', task: { id: 'api-1', title: 'Build the API' } }),
      `report-${randomUUID()}`,
    );

    // Act
    await chat.upload('#reports', chart(), `chart-${randomUUID()}`);

    // Assess
    expect(slack.files('#reports')).toHaveLength(1);
    expect(slack.files()[0]?.channel).toBe(slack.channelId('#reports'));
    expect(slack.calls.map((call) => call.method)).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
  });

  it('finds the id of a #channel it never posted to with one paged users.conversations listing', async () => {
    // Prepare: the app is in five channels; the server answers two per page
    slack = await startSlackServer({ token: TOKEN, pageSize: 2 });
    for (const name of ['#general', '#alpha', '#beta', '#reports', '#zeta']) slack.channelId(name);
    const chat = poster();

    // Act
    await chat.upload('#reports', chart(), `chart-${randomUUID()}`);
    await chat.upload('#zeta', chart(), `chart-${randomUUID()}`);

    // Assess
    expect(slack.files('#reports')).toHaveLength(1);
    expect(slack.files('#zeta')).toHaveLength(1);
    const listings = slack.calls.filter((call) => call.method === 'users.conversations');
    expect(listings.map((call) => call.args.cursor)).toEqual([undefined, '2', '4']);
    expect(listings[0]?.args).toMatchObject({
      types: 'public_channel,private_channel',
      exclude_archived: 'true',
    });
  });

  it('refuses a #channel the app is not a member of as not retryable, sharing nothing', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    slack.channelId('#general');

    // Act
    const error = await failure(poster().upload('#secret', chart(), `chart-${randomUUID()}`));

    // Assess
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toMatch(/#secret.*invite the Convoy app/);
    expect(slack.calls.map((call) => call.method)).toEqual(['users.conversations']);
  });

  it('finds a public #channel with channels:read alone when groups:read is missing', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN, scopes: ['chat:write', 'files:write', 'channels:read'] });
    slack.channelId('#reports');

    // Act
    await poster().upload('#reports', chart(), `chart-${randomUUID()}`);

    // Assess
    expect(slack.files('#reports')).toHaveLength(1);
    expect(
      slack.calls
        .filter((call) => call.method === 'users.conversations')
        .map((call) => [call.args.types, call.outcome]),
    ).toEqual([
      ['public_channel,private_channel', 'refused'],
      ['public_channel', 'listed'],
    ]);
  });

  it('says which scopes are missing: channels:read to find a #channel, files:write to share', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN, scopes: ['chat:write'] });
    const channel = slack.channelId('#reports');

    // Act
    const lookup = await failure(poster().upload('#reports', chart(), `chart-${randomUUID()}`));
    const share = await failure(poster().upload(channel, chart(), `chart-${randomUUID()}`));

    // Assess
    expect(lookup).toMatchObject({ retryable: false });
    expect(lookup.message).toMatch(/missing_scope.*channels:read.*or give the channel by id/);
    expect(share).toMatchObject({ retryable: false });
    expect(share.message).toMatch(/missing_scope.*files:write/);
    expect(slack.files()).toEqual([]);
  });

  it('is refused by Slack when given a #name as channel_id, which is why names are resolved first', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const client = new WebClient(TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });

    // Act
    const refused = await client.files
      .uploadV2({ channel_id: '#reports', file: Buffer.from(chart().bytes), filename: 'burndown.png' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    // Assess
    expect(refused).toMatchObject({ data: { ok: false, error: 'invalid_arguments' } });
    expect(slack.files()).toEqual([]);
  });

  it('waits out a 429 on files.getUploadURLExternal as Retry-After asks and then shares once', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
    slack.rateLimit(1, 1, 'files.getUploadURLExternal');

    // Act
    const id = await poster().upload(channel, chart(), `storm-${randomUUID()}`);

    // Assess
    expect(outcomes(slack.calls)).toEqual([
      ['files.getUploadURLExternal', 'rate_limited'],
      ['files.getUploadURLExternal', 'issued'],
      ['upload', 'uploaded'],
      ['files.completeUploadExternal', 'shared'],
    ]);
    expect((slack.calls[1]?.at ?? 0) - (slack.calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(slack.files().map((file) => file.id)).toEqual([id]);
  });

  it('starts the upload over after a 429 on files.completeUploadExternal and shares once', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
    slack.rateLimit(1, 1, 'files.completeUploadExternal');

    // Act
    const id = await poster().upload(channel, chart(), `late-storm-${randomUUID()}`);

    // Assess: the first upload is never completed, so Slack never shows it
    expect(outcomes(slack.calls)).toEqual([
      ['files.getUploadURLExternal', 'issued'],
      ['upload', 'uploaded'],
      ['files.completeUploadExternal', 'rate_limited'],
      ['files.getUploadURLExternal', 'issued'],
      ['upload', 'uploaded'],
      ['files.completeUploadExternal', 'shared'],
    ]);
    expect(slack.files().map((file) => file.id)).toEqual([id]);
  });

  it('gives up with a retryable error carrying Retry-After when a 429 outlasts its budget', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
    slack.rateLimit(1, 1, 'files.getUploadURLExternal');

    // Act
    const error = await failure(
      poster({ rateLimitBudgetMs: 500 }).upload(channel, chart(), `b-${randomUUID()}`),
    );

    // Assess
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 1000, status: 429 });
    expect(error.message).toMatch(/files\.uploadV2 to C\d+ was rate-limited/);
    expect(slack.files()).toEqual([]);
  });

  it.each(['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal'])(
    'reports an HTTP 500 on %s as retryable and shares once when the caller retries',
    async (method) => {
      // Prepare
      slack = await startSlackServer({ token: TOKEN });
      const channel = slack.channelId('#reports');
      slack.fail(1, 500, method);
      const chat = poster();
      const key = `fail-${randomUUID()}`;

      // Act
      const error = await failure(chat.upload(channel, chart(), key));
      const id = await chat.upload(channel, chart(), key);
      const again = await poster().upload(channel, chart(), key);

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 500 });
      expect(error.message).toMatch(/HTTP 500; Slack may be down/);
      expect(again).toBe(id);
      expect(slack.files().map((file) => file.id)).toEqual([id]);
      expect(slack.calls.filter((call) => call.outcome === 'failed').map((call) => call.method)).toEqual([
        method,
      ]);
    },
  );

  it('reports Slack down as retryable and shares once when the caller retries after it is back', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
    const chat = poster();
    const key = `down-${randomUUID()}`;
    slack.down();

    // Act
    const error = await failure(chat.upload(channel, chart(), key));
    slack.up();
    const id = await chat.upload(channel, chart(), key);

    // Assess
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toMatch(/could not reach/);
    expect(slack.files().map((file) => file.id)).toEqual([id]);
  });

  it('refuses a wrong token as not retryable and names the files:write scope', async () => {
    // Prepare
    slack = await startSlackServer({ token: 'xoxb-the-right-one' });
    const channel = slack.channelId('#reports');

    // Act
    const error = await failure(poster().upload(channel, chart(), `auth-${randomUUID()}`));

    // Assess
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toMatch(/invalid_auth.*CONVOY_SLACK_BOT_TOKEN.*files:write/);
    expect(slack.files()).toEqual([]);
  });

  it('refuses an empty file before calling Slack', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });

    // Act
    const error = await failure(
      poster().upload(
        '#reports',
        { filename: 'empty.png', title: 'Empty', bytes: new Uint8Array() },
        'empty',
      ),
    );

    // Assess
    expect(error).toMatchObject({ retryable: false });
    expect(slack.calls).toEqual([]);
  });

  it('keeps the channel pace between a post and an upload to the same channel', async () => {
    // Prepare
    slack = await startSlackServer({ token: TOKEN });
    const chat = poster({ minIntervalMs: 500 });

    // Act
    await Promise.all([
      chat.post(
        '#reports',
        taskDoneMessage({ project: 'payments', task: { id: 'api-1', title: 'Build the API' } }),
        `report-${randomUUID()}`,
      ),
      chat.upload('#reports', chart(), `chart-${randomUUID()}`),
    ]);

    // Assess: the post answered the channel's id, so no lookup; the upload began a full interval later
    const [posted, issued] = slack.calls;
    expect([posted?.method, issued?.method]).toEqual(['chat.postMessage', 'files.getUploadURLExternal']);
    expect((issued?.at ?? 0) - (posted?.at ?? 0)).toBeGreaterThanOrEqual(500);
  });

  it('never lets the bot token into an error or a log line', async () => {
    // Prepare: failures at every step, with error pages that echo the request headers
    slack = await startSlackServer({ token: TOKEN });
    const channel = slack.channelId('#reports');
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
    const wrong = `xoxb-wrong-${randomUUID()}`;
    const errors: IntegrationError[] = [];
    const attempt = async (client: SlackChatPoster) =>
      errors.push(await failure(client.upload(channel, chart(), `leak-${randomUUID()}`)));

    // Act
    await attempt(poster({ token: wrong, logger }));
    for (const method of ['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']) {
      slack.fail(1, 500, method);
      await attempt(chat);
    }
    slack.rateLimit(1, 1, 'upload');
    await attempt(chat);
    slack.down();
    await attempt(chat);

    // Assess
    expect(errors).toHaveLength(6);
    expect(slack.calls.filter((call) => call.outcome === 'failed')).toHaveLength(3);
    expect(lines.length).toBeGreaterThan(0);
    const everything = [
      ...errors.flatMap((error) => [error.message, String(error), error.stack, JSON.stringify(error)]),
      ...lines,
    ].join('\n');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(wrong);
  });
});
