/** The one module that reads the environment of the Lambda handlers (and of `convoy dev`). */
export interface HandlerConfig {
  readonly tableName: string;
  /** Set by `convoy dev` and the tests to point the SDK at DynamoDB Local. */
  readonly dynamodbEndpoint?: string;
  readonly region: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  const tableName = env.CONVOY_TABLE_NAME;
  if (!tableName)
    throw new Error(
      'CONVOY_TABLE_NAME is not set: the handler does not know which table holds the coordination state',
    );
  return {
    tableName,
    ...(env.CONVOY_DYNAMODB_ENDPOINT ? { dynamodbEndpoint: env.CONVOY_DYNAMODB_ENDPOINT } : {}),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
  };
}
