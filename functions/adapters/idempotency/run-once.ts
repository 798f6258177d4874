import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, type IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { RunInProgressError, RunKeyReusedError } from '../../core/errors.js';
import type { OnceOptions, RunOnce } from '../../core/ports.js';

/**
 * `RunOnce` on Powertools idempotency, over any of its persistence layers (DynamoDB deployed and in
 * `convoy dev`, memory in fast tests). Powertools configures a layer once, so each scope and keep
 * time has a layer of its own, made by `layer`.
 */
export class PowertoolsRunOnce implements RunOnce {
  readonly #layers = new Map<string, BasePersistenceLayer>();

  constructor(private readonly layer: () => BasePersistenceLayer) {}

  async run<T>(options: OnceOptions, key: string, fingerprint: string, work: () => Promise<T>) {
    const name = `${options.scope}:${options.keepSeconds}`;
    const persistenceStore = this.#layers.get(name) ?? this.layer();
    this.#layers.set(name, persistenceStore);
    let replayed = false;
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      payloadValidationJmesPath: 'fingerprint',
      hashFunction: 'sha256',
      expiresAfterSeconds: options.keepSeconds,
      // How long the first run holds the key: Powertools takes it from the Lambda's remaining time.
      lambdaContext: { getRemainingTimeInMillis: () => options.holdSeconds * 1000 } as Context,
      responseHook: (response) => {
        replayed = true;
        return response;
      },
    });
    let fresh: { value: T } | undefined;
    const once = makeIdempotent(
      async (_data: { key: string; fingerprint: string }) => {
        const value = await work();
        fresh = { value };
        // What a repeat gets back: JSON, so an undefined field is dropped rather than failing the write.
        return JSON.parse(JSON.stringify(value ?? null));
      },
      { persistenceStore, config, keyPrefix: options.scope },
    );
    let stored: T;
    try {
      stored = (await once({ key, fingerprint })) as T;
    } catch (error) {
      // The port's errors, not Powertools': callers (and their bundles) need not know the library.
      if (error instanceof IdempotencyAlreadyInProgressError)
        throw new RunInProgressError(undefined, { cause: error });
      if (error instanceof IdempotencyValidationError)
        throw new RunKeyReusedError(undefined, { cause: error });
      throw error;
    }
    return fresh && !replayed ? { outcome: fresh.value, replayed } : { outcome: stored, replayed };
  }
}

/**
 * Powertools' persistence in process memory: the same conditions as its DynamoDB layer (a key is
 * taken unless its record expired, or is in progress past its hold). For fast tests and the
 * in-memory simulation; test/integration/run-once.test.ts runs both layers through the same cases.
 */
export class MemoryPersistenceLayer extends BasePersistenceLayer {
  readonly #records = new Map<string, IdempotencyRecord>();

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.#records.get(idempotencyKey);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.#records.get(record.idempotencyKey);
    const now = Date.now();
    const free =
      !existing ||
      (existing.expiryTimestamp ?? Number.POSITIVE_INFINITY) < now / 1000 ||
      (existing.getStatus() === 'INPROGRESS' &&
        existing.inProgressExpiryTimestamp !== undefined &&
        existing.inProgressExpiryTimestamp < now);
    if (!free) throw new IdempotencyItemAlreadyExistsError(`${record.idempotencyKey} is taken`, existing);
    this.#records.set(record.idempotencyKey, record);
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.#records.get(record.idempotencyKey);
    if (existing?.inProgressExpiryTimestamp !== undefined)
      record.inProgressExpiryTimestamp = existing.inProgressExpiryTimestamp;
    this.#records.set(record.idempotencyKey, record);
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.#records.delete(record.idempotencyKey);
  }
}
