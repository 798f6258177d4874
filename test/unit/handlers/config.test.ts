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
      localSecrets: {},
    });
  });

  it('reads where the credentials and the token key are, and the credentials set as variables', () => {
    // Act
    const config = readConfig({
      CONVOY_TABLE_NAME: 't',
      CONVOY_SECRETS_ARN: 'arn:secret:integrations',
      CONVOY_TOKEN_KEY_ARN: 'arn:secret:token-key',
      CONVOY_SLACK_BOT_TOKEN: 'xoxb-local',
      CONVOY_UNRELATED: 'ignored',
      POWERTOOLS_LOG_LEVEL: 'warn',
    });

    // Assess
    expect(config).toMatchObject({
      secretsArn: 'arn:secret:integrations',
      tokenKeyArn: 'arn:secret:token-key',
      localSecrets: { CONVOY_SLACK_BOT_TOKEN: 'xoxb-local' },
      logLevel: 'WARN',
    });
  });

  it('refuses a log level Powertools does not know, naming the variable and the levels', () => {
    expect(() => readConfig({ CONVOY_TABLE_NAME: 't', POWERTOOLS_LOG_LEVEL: 'verbose' })).toThrow(
      new ConfigError(
        'POWERTOOLS_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT, got "verbose"',
      ),
    );
  });

  it('reads which tools the MCP server serves by default, and refuses a set it does not know', () => {
    expect(readConfig({ CONVOY_TABLE_NAME: 't', CONVOY_MCP_TOOLS: 'Core' })).toMatchObject({
      mcpTools: 'core',
    });
    expect(() => readConfig({ CONVOY_TABLE_NAME: 't', CONVOY_MCP_TOOLS: 'some' })).toThrow(
      new ConfigError('CONVOY_MCP_TOOLS must be core or all, got "some"'),
    );
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
