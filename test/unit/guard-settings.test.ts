import { describe, expect, it } from 'vitest';
import { parseGuardSettings } from '../../src/guard/guard-settings';

const account = '0123456789abcdef0123456789abcdef';

describe('parseGuardSettings', () => {
  it('is disabled, saying why, without CF_ACCOUNT_ID and CF_API_TOKEN', () => {
    for (const vars of [
      {},
      { CF_ACCOUNT_ID: account },
      { CF_API_TOKEN: 't' },
      { CF_ACCOUNT_ID: '', CF_API_TOKEN: '' },
    ]) {
      const result = parseGuardSettings(vars);
      expect(result.enabled).toBe(false);
      if (!result.enabled) expect(result.reason).toContain('CF_ACCOUNT_ID and CF_API_TOKEN');
    }
  });

  it('defaults to the Cloudflare API and the environment dataset', () => {
    const result = parseGuardSettings({
      CF_ACCOUNT_ID: account,
      CF_API_TOKEN: 'tok',
      ENVIRONMENT: 'staging',
    });
    expect(result).toEqual({
      enabled: true,
      settings: {
        sql: { baseUrl: 'https://api.cloudflare.com', accountId: account, apiToken: 'tok' },
        dataset: 'edge_rollout_staging',
        webhookUrl: undefined,
      },
    });
  });

  it('takes the base URL, dataset and webhook from the vars', () => {
    const result = parseGuardSettings({
      CF_ACCOUNT_ID: account,
      CF_API_TOKEN: 'tok',
      ANALYTICS_SQL_BASE_URL: 'http://127.0.0.1:9999',
      ANALYTICS_DATASET: 'my_set',
      GUARD_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X',
    });
    expect(result.enabled && result.settings).toMatchObject({
      sql: { baseUrl: 'http://127.0.0.1:9999' },
      dataset: 'my_set',
      webhookUrl: 'https://hooks.slack.com/services/T/B/X',
    });
  });

  it('trims the URLs it takes', () => {
    const result = parseGuardSettings({
      CF_ACCOUNT_ID: account,
      CF_API_TOKEN: 'tok',
      ANALYTICS_SQL_BASE_URL: ' http://127.0.0.1:9999 ',
      GUARD_WEBHOOK_URL: 'https://hooks.example.com/x\n',
    });
    expect(result.enabled && result.settings).toMatchObject({
      sql: { baseUrl: 'http://127.0.0.1:9999' },
      webhookUrl: 'https://hooks.example.com/x',
    });
  });

  it('is disabled, naming the variable, when a value is invalid', () => {
    const cases: [Record<string, string>, string][] = [
      [{ CF_ACCOUNT_ID: 'not-an-account' }, 'CF_ACCOUNT_ID'],
      [{ CF_API_TOKEN: 'has space' }, 'CF_API_TOKEN'],
      [{ ANALYTICS_SQL_BASE_URL: 'ftp://x' }, 'ANALYTICS_SQL_BASE_URL'],
      [{ GUARD_WEBHOOK_URL: 'not a url' }, 'GUARD_WEBHOOK_URL'],
      [{ GUARD_WEBHOOK_URL: 'https:hooks.example.com/x' }, 'GUARD_WEBHOOK_URL: must be an http(s) URL'],
      [{ ANALYTICS_SQL_BASE_URL: 'https://' }, 'ANALYTICS_SQL_BASE_URL: must be an http(s) URL'],
      [{ ANALYTICS_DATASET: 'drop table;' }, 'ANALYTICS_DATASET'],
    ];
    for (const [bad, name] of cases) {
      const result = parseGuardSettings({ CF_ACCOUNT_ID: account, CF_API_TOKEN: 'tok', ...bad });
      expect(result.enabled).toBe(false);
      if (!result.enabled) expect(result.reason).toContain(name);
    }
  });
});
