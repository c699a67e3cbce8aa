// What a store accepts as an object key, whatever layout is stored under it.

/**
 * Throws unless `key` is a safe relative object key: '/'-separated, not empty, no leading
 * '/', no empty, '.' or '..' segments, no backslashes or control characters. Stores call this
 * so a key can never escape their root. With `allowTrailingSlash`, a list prefix such as
 * `snapshots/` (or '') is accepted.
 */
export function assertValidKey(key: string, allowTrailingSlash = false): void {
  const bad = (why: string): never => {
    throw new Error(`invalid storage key ${JSON.stringify(key)}: ${why}`);
  };
  if (allowTrailingSlash && key === '') return;
  if (key === '') bad('empty');
  if (key.startsWith('/')) bad('starts with /');
  if (key.includes('\\')) bad('contains a backslash');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) bad('contains a control character');
  const segments = key.split('/');
  if (allowTrailingSlash && segments[segments.length - 1] === '') segments.pop();
  for (const s of segments) {
    if (s === '') bad('has an empty path segment');
    if (s === '.' || s === '..') bad(`has a "${s}" path segment`);
  }
}
