import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../core/ports.js';
import { keys } from './keys.js';

export interface DynamoDbRateLimiterOptions {
  /** The bucket: one per JIRA site (e.g. `jira:acme.atlassian.net`), shared by all its workers. */
  readonly name: string;
  /** Requests allowed in any window, all at once if need be (the burst is the capacity). @default 100 */
  readonly capacity?: number;
  /** How long a token takes to come back. @default 60000 (one minute) */
  readonly windowMs?: number;
}

/** The bucket item lists the time of every token out, so the item grows with the capacity. */
const MAX_CAPACITY = 1_000;
/** Conditional writes lost in a row before the caller is told to wait a moment instead. */
const MAX_ROUNDS = 10;
const CONTENDED_WAIT_MS = 20;

/**
 * A token bucket in one DynamoDB item, shared by every process that talks to one JIRA site.
 *
 * Why shared: the limit is JIRA's, per site, whoever calls. Several Lambda containers may drain
 * at once (a slow invocation and the next one, the webhook worker, another region), and `convoy dev`
 * runs its own worker; an in-memory bucket in each would let each of them send the whole rate.
 *
 * Why each token comes back a window after it was taken rather than trickling back continuously: a
 * full bucket of 100 refilled at 100 per minute lets 199 requests through in the first minute,
 * which is over JIRA's limit; this bucket never lets more than `capacity` through in any window,
 * yet still sends a burst of `capacity` at once.
 *
 * Two workers never take the same token: the item carries a `version`, and a token is taken only by
 * a write conditional on the version read. The loser reads again and retries (a few times, then it
 * asks its caller to wait a moment). A denied request only reads.
 */
export class DynamoDbRateLimiter implements RateLimiter {
  private readonly name: string;
  private readonly capacity: number;
  private readonly windowMs: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbRateLimiterOptions,
  ) {
    this.name = options.name;
    this.capacity = options.capacity ?? 100;
    this.windowMs = options.windowMs ?? 60_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1 || this.capacity > MAX_CAPACITY)
      throw new RangeError(
        `rate limit capacity must be a whole number from 1 to ${MAX_CAPACITY}, got ${this.capacity}: ` +
          'for a higher rate, use a shorter window',
      );
    if (!(this.windowMs > 0))
      throw new RangeError(
        `rate limit window must be a positive number of milliseconds, got ${this.windowMs}`,
      );
  }

  async tryAcquire(now: Date): Promise<number> {
    const at = now.getTime();
    const key = keys.rateLimit(this.name);
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const { Item: item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const version = typeof item?.version === 'number' ? item.version : 0;
      // Another worker's clock may run ahead: its tokens count until they are a window old here too.
      const out = ((item?.taken as number[] | undefined) ?? [])
        .filter((taken) => taken > at - this.windowMs)
        .sort((a, b) => a - b);
      if (out.length >= this.capacity)
        return Math.max(1, (out[out.length - this.capacity] as number) + this.windowMs - at);
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key, taken: [...out, at], version: version + 1 },
            ...(item
              ? {
                  ConditionExpression: '#version = :version',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':version': version },
                }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        return 0;
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
    return CONTENDED_WAIT_MS;
  }
}
