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
 * Masks anything shaped like `scheme://…@` or `user:password@` in free text, for
 * values that do not even parse as a URL (an invalid option, say). After a scheme,
 * everything up to the last `@` of the word goes: a password pasted from a secret
 * may hold `/`, `+` or `@`, so no guess is made about where it ends.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/(:\/\/)([^\s"'<>:@/]*:)?[^\s"'<>]*@/g, '$1$2***@')
    .replace(/([^\s/:@"']+):[^\s/"']*@/g, '$1:***@');
}
