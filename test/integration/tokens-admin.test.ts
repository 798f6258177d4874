import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { convoy } from '../support/cli.js';
import { testEndpoint } from '../support/dynamodb.js';

const keyText = randomBytes(32).toString('base64url');
let api: TestApi;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convoy-admin-'));
  await writeFile(join(dir, 'token-key'), `${keyText}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'other-key'), `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  api = await startTestApi({ tokenKey: Buffer.from(keyText, 'utf8') });
  // DynamoDB Local takes any credentials; the SDK wants some.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

const createAdmin = (keyFile: string) =>
  convoy(
    'tokens',
    'create-admin',
    '--region',
    'us-east-1',
    '--endpoint',
    testEndpoint(),
    '--table',
    api.table.tableName,
    '--key-file',
    keyFile,
  );

describe('convoy tokens create-admin', () => {
  it('mints an admin token with the deployment’s key, printed once; another key’s token is refused', async () => {
    // Act
    const created = await createAdmin(join(dir, 'token-key'));
    const token = created.stdout.trim();
    const foreign = (await createAdmin(join(dir, 'other-key'))).stdout.trim();
    const listed = await api.call<{ tokens: { id: string; role: string; status: string }[] }>(
      'GET',
      '/v1/plans/any/tokens',
      { token },
    );
    const byForeign = await api.call('GET', '/v1/plans/any/tokens', { token: foreign });

    // Assess
    expect(created).toMatchObject({ code: 0, stderr: expect.stringContaining('admin token') });
    expect(token).toMatch(/^cvy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).not.toContain(token);
    expect(listed.status).toBe(200);
    expect(listed.body.tokens).toContainEqual(
      expect.objectContaining({ id: token.split('_')[1], role: 'admin', status: 'active' }),
    );
    expect(byForeign.status).toBe(401);
  });

  it('refuses a secret and a key file together, naming both options', async () => {
    // Act
    const both = await convoy(
      'tokens',
      'create-admin',
      '--region',
      'us-east-1',
      '--secret',
      's',
      '--key-file',
      'f',
    );

    // Assess
    expect(both).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--secret or --key-file, not both'),
    });
  });
});
