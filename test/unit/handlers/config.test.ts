import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../../functions/handlers/config.js';

describe('readConfig', () => {
  it('reads the integration settings and defaults the JIRA rate to 100 a minute', () => {
    // Act
    const config = readConfig({
      CONVOY_TABLE_NAME: 't',
      CONVOY_JIRA_BASE_URL: 'http://127.0.0.1:9/',
      AWS_REGION: 'eu-west-1',
    });

    // Assess
    expect(config).toEqual({
      tableName: 't',
      region: 'eu-west-1',
      jiraBaseUrl: 'http://127.0.0.1:9/',
      jiraRequestsPerMinute: 100,
    });
  });

  it.each(['0', '2000', '1.5', 'fast'])(
    'refuses CONVOY_JIRA_REQUESTS_PER_MINUTE=%s, naming the variable and its range',
    (value) => {
      expect(() => readConfig({ CONVOY_TABLE_NAME: 't', CONVOY_JIRA_REQUESTS_PER_MINUTE: value })).toThrow(
        new ConfigError(
          `CONVOY_JIRA_REQUESTS_PER_MINUTE must be a whole number from 1 to 1000, got "${value}"`,
        ),
      );
    },
  );
});
