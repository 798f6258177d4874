import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

/** The integration credentials, by the environment variable names users set locally. */
export const SECRET_NAMES = [
  'CONVOY_GITHUB_WEBHOOK_SECRET',
  'CONVOY_JIRA_EMAIL',
  'CONVOY_JIRA_API_TOKEN',
  'CONVOY_JIRA_WEBHOOK_SECRET',
  'CONVOY_SLACK_BOT_TOKEN',
  'CONVOY_SLACK_SIGNING_SECRET',
] as const;

export type SecretName = (typeof SECRET_NAMES)[number];
export type Secrets = Partial<Record<SecretName, string>>;

/**
 * Integration secrets: from the environment locally; deployed, from one Secrets Manager secret (a JSON
 * object with the same keys) named by `CONVOY_SECRETS_ARN`, cached for five minutes so a rotation
 * reaches every container soon without a read per request. Values are never logged.
 */
export async function loadSecrets(env: NodeJS.ProcessEnv = process.env): Promise<Secrets> {
  const fromEnv: Secrets = {};
  for (const name of SECRET_NAMES) if (env[name]) fromEnv[name] = env[name];
  const arn = env.CONVOY_SECRETS_ARN;
  if (!arn) return fromEnv;
  const stored = (await getSecret<Record<string, unknown>>(arn, { transform: 'json', maxAge: 300 })) ?? {};
  const fromManager: Secrets = {};
  for (const name of SECRET_NAMES)
    if (typeof stored[name] === 'string' && stored[name]) fromManager[name] = stored[name] as string;
  return { ...fromManager, ...fromEnv };
}

/** A comma-separated secret as its list, so two can be valid at once while one is rotated. */
export const secretList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
