import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';

/**
 * The handlers' logger: Powertools writes structured JSON that CloudWatch can query. One per
 * composition (`createDependencies`), at the level its configuration names; without one, Powertools
 * reads `POWERTOOLS_LOG_LEVEL` itself.
 */
export function createLogger(logLevel?: LogLevel): Logger {
  return new Logger({ serviceName: 'convoy', ...(logLevel ? { logLevel } : {}) });
}

export type { Logger };
