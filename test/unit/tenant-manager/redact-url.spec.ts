import { describe, expect, it } from 'vitest';
import { redactCredentials, redactUrl } from '../../../src/tenant-manager/redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['http://user:s3cret@tm:8080/base', 'http://user:***@tm:8080/base'],
    ['http://user:p@ss@tm', 'http://user:***@tm'],
    ['https://t0ken@tm/', 'https://***@tm/'],
    ['http://tm:8080', 'http://tm:8080'],
    ['http://tm:8080/', 'http://tm:8080/'],
  ])('%s shows as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('masks credentials in a value that does not parse as a URL', () => {
    expect(redactUrl('http//user:s3cret@tm/x')).toBe('http//user:***@tm/x');
    expect(redactUrl('user:s3cret@tm')).toBe('user:***@tm');
  });

  it('masks a password holding "/", "+" or "@" (base64 from a secret) even where the URL cannot be parsed', () => {
    expect(redactUrl('http://svc:Zm9vYmFy/cXV4+SECRET@tm.internal:8080')).toBe('http://svc:***@tm.internal:8080');
    expect(redactUrl('http://svc:a/b@c+d@tm')).toBe('http://svc:***@tm');
  });
});

describe('redactCredentials', () => {
  it('masks every userinfo in free text and leaves the rest', () => {
    const text = 'connect to http://a:b@h1/x then ftp://tok@h2 failed: ECONNREFUSED 127.0.0.1:80';
    expect(redactCredentials(text)).toBe('connect to http://a:***@h1/x then ftp://***@h2 failed: ECONNREFUSED 127.0.0.1:80');
  });
});
