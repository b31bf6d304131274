import { describe, expect, it } from 'vitest';
import { checkSignInRedirect } from './tableau-auth.js';

const WHAT = "sign in to site 'sales' on https://127.0.0.1:8443";

describe('checkSignInRedirect', () => {
  it.each([
    [
      'the Cloud pod',
      'https://online.tableau.com/api/3.21/auth/signin',
      'https://10ay.online.tableau.com/api/3.21/auth/signin',
    ],
    [
      'a loopback alias (127.0.0.1 → localhost)',
      'https://127.0.0.1:8443/api/3.21/auth/signin',
      'https://localhost:8443/api/3.21/auth/signin',
    ],
    [
      'a loopback alias (localhost → ::1)',
      'https://localhost:8443/api/3.21/auth/signin',
      'https://[::1]:8443/api/3.21/auth/signin',
    ],
    [
      'the same host, another port',
      'https://tableau.example.com/api/3.21/auth/signin',
      'https://TABLEAU.example.com:8443/api/3.21/auth/signin',
    ],
  ])('follows a redirect to %s', (_label, from, to) => {
    expect(checkSignInRedirect(from, to, WHAT)).toBe(new URL(to).toString());
  });

  it('resolves a relative Location against the current URL', () => {
    expect(
      checkSignInRedirect('https://tableau.example.com/api/3.21/auth/signin', '/t/api/3.21/auth/signin', WHAT),
    ).toBe('https://tableau.example.com/t/api/3.21/auth/signin');
  });

  it.each([
    [
      'another host',
      'https://tableau.example.com/api/3.21/auth/signin',
      'https://intranet.example.com/api/3.21/auth/signin',
      'intranet.example.com',
    ],
    [
      'a downgrade to http',
      'https://tableau.example.com/api/3.21/auth/signin',
      'http://tableau.example.com/api/3.21/auth/signin',
      'tableau.example.com',
    ],
    [
      'http to a Cloud host',
      'https://online.tableau.com/api/3.21/auth/signin',
      'http://10ay.online.tableau.com/api/3.21/auth/signin',
      '10ay.online.tableau.com',
    ],
    [
      'a loopback name to a LAN address',
      'https://127.0.0.1:8443/api/3.21/auth/signin',
      'https://10.0.0.5:8443/api/3.21/auth/signin',
      '10.0.0.5:8443',
    ],
    [
      'a host that only ends like Tableau',
      'https://tableau.example.com/api/3.21/auth/signin',
      'https://eviltableau.com/x',
      'eviltableau.com',
    ],
  ])('refuses %s, naming the host but not the query', (_label, from, to, host) => {
    let thrown: unknown;
    try {
      checkSignInRedirect(from, `${to}?jwt=eyJsecret`, WHAT);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'TABLEAU_REDIRECT_REFUSED', details: { redirectHost: host } });
    expect((thrown as Error).message).toContain(host);
    expect((thrown as Error).message).not.toContain('eyJsecret');
  });
});
