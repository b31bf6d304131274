import { describe, expect, it } from 'vitest';
import { createFaultEngine } from './faults.js';

describe('simulator fault engine', () => {
  it('fires a lock N times, only for its path and upload operations', () => {
    const f = createFaultEngine(() => 0);
    f.lock('Reports/Book.xlsx', { attempts: 2 });
    expect(f.take('item', 'Reports/Book.xlsx')).toBeUndefined();
    expect(f.take('content', 'Reports/Other.xlsx')).toBeUndefined();
    expect(f.take('content', 'reports/book.xlsx')?.status).toBe(423);
    expect(f.take('createUploadSession', 'Reports/Book.xlsx')?.codes).toEqual(['notAllowed', 'resourceLocked']);
    expect(f.take('content', 'Reports/Book.xlsx')).toBeUndefined();
  });

  it('fires a lock for a time window', () => {
    let now = 1_000;
    const f = createFaultEngine(() => now);
    f.lock('Book.xlsx', { forMs: 500 });
    expect(f.take('content', 'Book.xlsx')?.status).toBe(423);
    now = 1_499;
    expect(f.take('content', 'Book.xlsx')?.status).toBe(423);
    now = 1_500;
    expect(f.take('content', 'Book.xlsx')).toBeUndefined();
  });

  it('lets `skip` requests pass first and counts `times`', () => {
    const f = createFaultEngine(() => 0);
    f.dropFragment({ when: 'after-store', skip: 1, times: 2 });
    expect(f.take('uploadFragment', undefined)).toBeUndefined();
    expect(f.take('uploadFragment', undefined)?.action).toBe('reset-after-store');
    expect(f.take('uploadFragment', undefined)?.action).toBe('reset-after-store');
    expect(f.take('uploadFragment', undefined)).toBeUndefined();
    expect(f.pending()).toEqual([]);
  });

  it("matches 'graph' to API calls but not to the token endpoint or upload URLs", () => {
    const f = createFaultEngine(() => 0);
    f.throttle({ ops: ['graph'], status: 503, retryAfter: '2', times: 10 });
    expect(f.take('token', undefined)).toBeUndefined();
    expect(f.take('uploadFragment', undefined)).toBeUndefined();
    expect(f.take('drive', undefined)).toMatchObject({ status: 503, retryAfter: '2' });
  });

  it('expireTokens bumps the token generation', () => {
    const f = createFaultEngine(() => 0);
    const g = f.tokenGeneration();
    f.expireTokens();
    expect(f.tokenGeneration()).toBe(g + 1);
  });
  it('hands a teammate save to the first upload that refers to it, once, and clear() drops pending ones', () => {
    const f = createFaultEngine(() => 0);
    f.teammateSavesBeforeNextUpload('Reports/Book.xlsx', Buffer.from('theirs'));
    expect(f.takeTeammateSave((ref) => ref === 'Other.xlsx')).toBeUndefined();
    expect(f.takeTeammateSave((ref) => ref === 'Reports/Book.xlsx')?.bytes.toString()).toBe('theirs');
    expect(f.takeTeammateSave(() => true)).toBeUndefined();
    f.teammateSavesBeforeNextUpload('Book.xlsx', Buffer.from('again'));
    expect(f.pendingTeammateSaves()).toHaveLength(1);
    f.clear();
    expect(f.pendingTeammateSaves()).toEqual([]);
  });

  it('keeps download faults off Graph API calls, and locks off content downloads', () => {
    const f = createFaultEngine(() => 0);
    f.failDownload({ times: 1 });
    f.cutDownload({ times: 1 });
    f.lock('Book.xlsx', { attempts: 5 });
    expect(f.take('contentDownload', 'Book.xlsx')).toBeUndefined();
    expect(f.take('download', 'Book.xlsx')?.status).toBe(503);
    expect(f.take('download', 'Book.xlsx')?.action).toBe('cut-body');
    f.throttle({ ops: ['graph'], times: 5 });
    expect(f.take('download', 'Book.xlsx')).toBeUndefined();
    expect(f.take('contentDownload', 'Book.xlsx')?.status).toBe(429);
  });
});
