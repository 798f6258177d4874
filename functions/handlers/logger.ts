import { Logger } from '@aws-lambda-powertools/logger';

/** One logger for every handler; Powertools writes structured JSON that CloudWatch can query. */
export const logger = new Logger({ serviceName: 'convoy' });

export const logError = (message: string, error: unknown) => logger.error(message, error as Error);
