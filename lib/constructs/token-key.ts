import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { TOKEN_KEY_ARN_ENV } from '../../functions/handlers/env-names.js';
import type { AppFunction } from './app-function.js';

/** Name of the Secrets Manager secret holding the key API tokens are sealed with, in every region. */
export const TOKEN_KEY_SECRET_NAME = 'convoy/token-key';

/** Properties of {@link ConvoyTokenKey}. */
export interface ConvoyTokenKeyProps {
  /**
   * `'create'` generates the key in this stack (the primary region's), replicated to `replicaRegions`;
   * `'replica'` uses the read-only replica the primary region's stack made in this region, so a token
   * minted in one region is accepted in every other (the table is global).
   *
   * @default 'create'
   */
  readonly source?: 'create' | 'replica';

  /**
   * Regions that get a read-only replica of the key. Only used when `source` is `'create'`.
   *
   * @default - no replicas
   */
  readonly replicaRegions?: readonly string[];
}

/**
 * The token key: a random string Secrets Manager generates when the secret is created, so it is in no
 * template and no repository. API tokens are stored as HMACs under it (functions/handlers/http/auth.ts),
 * so whoever can write to the state table, but cannot read this secret, can mint no token. Only the
 * functions that authenticate or mint tokens may read it ({@link grantRead}).
 */
export class ConvoyTokenKey extends Construct {
  /** The key's secret, or this region's replica of it. */
  readonly secret: ISecret;

  constructor(scope: Construct, id: string, props: ConvoyTokenKeyProps = {}) {
    super(scope, id);
    if ((props.source ?? 'create') === 'replica') {
      this.secret = Secret.fromSecretNameV2(this, 'Secret', TOKEN_KEY_SECRET_NAME);
      return;
    }
    const secret = new Secret(this, 'Secret', {
      secretName: TOKEN_KEY_SECRET_NAME,
      description:
        'Convoy API token key: tokens are stored as HMAC-SHA256 under it. Generated; a new value invalidates ' +
        'every token',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      replicaRegions: (props.replicaRegions ?? []).map((region) => ({ region })),
    });
    NagSuppressions.addResourceSuppressions(secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'The key seals every API token: a rotation would invalidate all of them at once, so it is a deliberate ' +
          'act (a new value put with put-secret-value, then new tokens issued, docs/operations.md), never a schedule',
      },
    ]);
    this.secret = secret;
  }

  /** Lets `fn` read the key and tells it where the key is (`CONVOY_TOKEN_KEY_ARN`). */
  grantRead(fn: AppFunction): void {
    fn.addEnvironment(TOKEN_KEY_ARN_ENV, this.secret.secretArn);
    this.secret.grantRead(fn);
  }
}
