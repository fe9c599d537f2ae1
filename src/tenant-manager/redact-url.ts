/**
 * Credentials in a URL (`http://user:password@host`) never reach a text: log lines,
 * error messages, `onError`, `getStatus()` and option errors show `user:***@host`
 * (a bare `token@host` becomes `***@host`, since a lone userinfo is often a secret).
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactCredentials(url);
  }
  // No userinfo the URL parser sees (or an opaque one like `user:pw@host`): mask the text.
  if (parsed.username === '' && parsed.password === '') return redactCredentials(url);
  if (parsed.password !== '') parsed.password = '***';
  else parsed.username = '***';
  return parsed.href.replace(/\/$/, url.endsWith('/') ? '/' : '');
}

/**
 * Masks anything shaped like `user:password@` or `scheme://token@` in free text,
 * for values that do not even parse as a URL (an invalid option, say).
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/([^\s/:@]+):[^\s/]*@/g, '$1:***@')
    .replace(/(:\/\/)[^\s/:@]+@/g, '$1***@');
}
