import { SECRET_NAMES } from './env-names.js';

/**
 * Powertools' Secrets Manager provider, imported where a secret is first read: `convoy dev`, whose
 * secrets are environment variables and a key file, starts without it and the Secrets Manager client.
 */
export const secretsProvider = () => import('@aws-lambda-powertools/parameters/secrets');

export type SecretName = (typeof SECRET_NAMES)[number];
export type Secrets = Partial<Record<SecretName, string>>;

/** Where the integration credentials are: the fields of `HandlerConfig` that say so. */
export interface SecretSource {
  /** One Secrets Manager secret: a JSON object keyed by the names in `SECRET_NAMES`. */
  readonly secretsArn?: string;
  /** Values given directly (locally, as environment variables); they win over the secret's. */
  readonly localSecrets: Secrets;
}

/**
 * Integration secrets: the local values, and deployed the ones of the `secretsArn` secret, cached
 * for five minutes so a rotation reaches every container soon without a read per request. Values
 * are never logged.
 */
export async function loadSecrets(source: SecretSource): Promise<Secrets> {
  if (!source.secretsArn) return { ...source.localSecrets };
  const { getSecret } = await secretsProvider();
  const stored =
    (await getSecret<Record<string, unknown>>(source.secretsArn, { transform: 'json', maxAge: 300 })) ?? {};
  const fromManager: Secrets = {};
  for (const name of SECRET_NAMES)
    if (typeof stored[name] === 'string' && stored[name]) fromManager[name] = stored[name] as string;
  return { ...fromManager, ...source.localSecrets };
}

/** A comma-separated secret as its list, so two can be valid at once while one is rotated. */
export const secretList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
