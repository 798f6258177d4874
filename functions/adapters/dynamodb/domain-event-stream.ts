import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DomainEvent } from '../../core/domain-events.js';
import { DOMAIN_EVENT_PREFIX } from './keys.js';

/**
 * The domain event a stream record of the table carries: the new image of a domain event item
 * (items.ts `domainEventPut`) that was just inserted. Every other record (other items, updates,
 * deletions by TTL) carries none.
 */
export function domainEventOfRecord(record: {
  readonly eventName?: string | undefined;
  readonly dynamodb?: { readonly NewImage?: Record<string, AttributeValue> | undefined } | undefined;
}): DomainEvent | undefined {
  if (record.eventName !== 'INSERT') return undefined;
  const image = record.dynamodb?.NewImage;
  const pk = image?.pk?.S;
  if (!image || !pk?.startsWith(DOMAIN_EVENT_PREFIX) || !image.event?.M) return undefined;
  return unmarshall(image.event.M) as DomainEvent;
}
