import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { createRedactor } from '../shared/redact.js';
import { secretValues } from './env-secrets.js';

const config = parseConfigText(
  `
queue: { redisUrlEnv: REDIS_URL }
exports:
  - id: nightly
    views: [{ file: ./deals.csv }]
    destination: { type: local, dir: ./out }
`,
  '/etc/tableau-export/exports.yaml',
).config;

describe('secretValues', () => {
  it('hands the redactor the Redis URL and each of its passwords on its own', () => {
    const env = { REDIS_URL: 'rediss://app:user-pw-1234@cache:6380/0?password=query-pw-5678' };
    const secrets = secretValues(config, env);
    expect(secrets).toEqual(expect.arrayContaining([env.REDIS_URL, 'user-pw-1234', 'query-pw-5678']));
    const redactor = createRedactor();
    for (const s of secrets) redactor.addSecret(s);
    const text = redactor.redact('AUTH failed with query-pw-5678; userinfo user-pw-1234');
    expect(text).not.toContain('query-pw-5678');
    expect(text).not.toContain('user-pw-1234');
  });
});
