/** The server URL rule shared by the agent, build:iso and the server (protocol/server-url.ts). */
import { describe, expect, it } from 'vitest';
import { checkServerUrl, isLoopbackHost } from '../../protocol/server-url.js';

describe('checkServerUrl', () => {
  it('takes https anywhere and plain http only to this machine', () => {
    for (const url of [
      'https://homenode.example.com',
      'https://203.0.113.7:8443/',
      'http://127.0.0.1:8080',
      'http://127.45.6.7',
      'http://localhost:8080',
      'http://LOCALHOST',
      'http://[::1]:8080',
    ])
      expect(checkServerUrl(url), url).toEqual({ ok: true, url, insecure: false });
  });

  it('refuses plain http to another machine, saying why and what to do', () => {
    for (const url of [
      'http://10.0.2.2:8080',
      'http://homenode.example.com',
      'http://127.0.0.1.example.com',
      'http://localhost.example.com',
      'http://[::2]',
      'http://0.0.0.0:8080',
    ]) {
      const checked = checkServerUrl(url);
      expect(checked.ok, url).toBe(false);
      if (checked.ok) continue;
      expect(checked.problem).toBe('insecure-http');
      expect(checked.reason).toMatch(/plain http:\/\/ to another machine/);
      expect(checked.reason).toMatch(/installation key .* unencrypted/);
      expect(checked.reason).toMatch(/Use https:\/\//);
    }
  });

  it('allows plain http to another machine only when asked, and marks it insecure', () => {
    expect(checkServerUrl('http://10.0.2.2:8080', { allowInsecureHttp: true })).toEqual({
      ok: true,
      url: 'http://10.0.2.2:8080',
      insecure: true,
    });
    expect(checkServerUrl('http://127.0.0.1:8080', { allowInsecureHttp: true })).toMatchObject({
      insecure: false,
    });
  });

  it('refuses what is not a server address, naming the problem', () => {
    const problems = {
      'homenode.example.com': 'not-a-url',
      'ftp://homenode.example.com': 'scheme',
      'https://ops:secret@homenode.example.com': 'credentials',
      'https://homenode.example.com/?next=x': 'query',
      'https://homenode.example.com/#top': 'query',
    } as const;
    for (const [url, problem] of Object.entries(problems)) {
      expect(checkServerUrl(url, { allowInsecureHttp: true }), url).toMatchObject({ ok: false, problem });
    }
  });

  it('knows loopback by its address, not by a name that starts like one', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.255.255.254')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('127.0.0.256')).toBe(false);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
    // new URL writes other spellings of loopback as the address.
    expect(isLoopbackHost(new URL('http://0x7f.1').hostname)).toBe(true);
  });
});
