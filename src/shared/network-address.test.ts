import { describe, expect, it } from 'vitest';
import { isLocalhostName, nonPublicAddressKind, webhookUrlProblem } from './network-address.js';

describe('nonPublicAddressKind', () => {
  it.each([
    ['8.8.8.8', undefined],
    ['52.96.1.1', undefined],
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', undefined],
    ['192.168.1.10', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', undefined],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:101::1', 'private'],
    ['2001:db8::1', 'reserved'],
    ['2606:4700::1111', undefined],
    ['2a01:111:f400::1', undefined],
    ['not-an-ip', undefined],
  ])('%s → %s', (ip, kind) => {
    expect(nonPublicAddressKind(ip)).toBe(kind);
  });

  it('knows the names of this machine', () => {
    expect(['localhost', 'LOCALHOST.', 'api.localhost'].map(isLocalhostName)).toEqual([true, true, true]);
    expect(isLocalhostName('localhost.example.com')).toBe(false);
  });
});

describe('webhookUrlProblem', () => {
  it.each([
    ['https://contoso.webhook.office.com/webhookb2/abc', false, undefined],
    ['https://hooks.slack.com/services/T/B/x', false, undefined],
    ['http://hooks.slack.com/services/T/B/x', false, /is an http:\/\/ URL; webhooks must use https:\/\//],
    ['ftp://hooks.example/x', false, /is a ftp:\/\/ URL/],
    ['hooks.slack.com/services', false, /is not an absolute URL/],
    ['https://localhost:8443/hook', false, /points at localhost; set allowPrivate: true/],
    ['https://127.0.0.1/hook', false, /points at a loopback address \(127\.0\.0\.1\)/],
    // The URL parser normalises the tricks: 0x7f.1 and 2130706433 are 127.0.0.1.
    ['https://0x7f.1/hook', false, /loopback address \(127\.0\.0\.1\)/],
    ['https://2130706433/hook', false, /loopback address \(127\.0\.0\.1\)/],
    ['https://[::ffff:169.254.169.254]/latest', false, /link-local address/],
    ['https://[fd00::5]/hook', false, /private address/],
    ['https://10.0.0.5/hook', true, undefined],
    ['https://localhost/hook', true, undefined],
    ['http://10.0.0.5/hook', true, /webhooks must use https/],
  ])('%s (allowPrivate %s)', (url, allowPrivate, expected) => {
    const problem = webhookUrlProblem(url, allowPrivate);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
    expect(problem ?? '').not.toContain('/hook');
  });
});
