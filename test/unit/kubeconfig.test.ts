// Kubeconfig loading as kubectl does it: which files count, which wins, and the errors a user
// sees for missing or broken ones (each says what to do next).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConnection } from '../../src/kube/kubeconfig.js';
import { userError } from './user-error.js';

/** A kubeconfig with one context `name` whose cluster is `server`, using a bearer token. */
function kubeconfigText(name: string, server: string, current = true): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    ...(current ? [`current-context: ${name}`] : []),
    `clusters: [{name: ${name}, cluster: {server: "${server}"}}]`,
    `users: [{name: ${name}, user: {token: token-of-${name}}}]`,
    `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}}}]`,
    '',
  ].join('\n');
}

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'ks-kubeconfig-'));
}

function file(d: string, name: string, text: string): string {
  const path = join(d, name);
  writeFileSync(path, text);
  return path;
}

/** An environment with no home kubeconfig and no in-cluster service account. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = dir();
  mkdirSync(join(home, '.kube'));
  return { HOME: home, ...extra };
}

describe('kubeconfig loading', () => {
  it('names a --kubeconfig path that does not exist, and what to check', () => {
    const missing = join(dir(), 'nope');
    const err = userError(() => loadConnection({ kubeconfig: missing }, env()));
    expect(err.message).toBe(`kubeconfig ${missing} does not exist`);
    expect(err.hint).toBe('check the --kubeconfig path');
  });

  it('says no kubeconfig was found when KUBECONFIG names only missing files', () => {
    const d = dir();
    const err = userError(() =>
      loadConnection({}, env({ KUBECONFIG: [join(d, 'a'), join(d, 'b')].join(delimiter) })),
    );
    expect(err.message).toBe('no kubeconfig found');
    expect(err.hint).toMatch(/--kubeconfig.*KUBECONFIG.*~\/\.kube\/config/);
  });

  it('skips missing files in KUBECONFIG, as kubectl does, and uses the ones that exist', async () => {
    const d = dir();
    const real = file(d, 'real', kubeconfigText('real', 'https://real.example:6443'));
    const c = loadConnection({}, env({ KUBECONFIG: [join(d, 'gone'), real].join(delimiter) }));
    expect(c.server).toBe('https://real.example:6443');
    expect((await c.credentials()).headers.Authorization).toBe('Bearer token-of-real');
  });

  it('lets the first file that sets a context win when KUBECONFIG lists several', () => {
    const d = dir();
    const first = file(d, 'first', kubeconfigText('one', 'https://one.example'));
    const second = file(d, 'second', kubeconfigText('two', 'https://two.example'));
    const c = loadConnection({}, env({ KUBECONFIG: [first, second].join(delimiter) }));
    expect(c.contextName).toBe('one');
    expect(
      loadConnection({ context: 'two' }, env({ KUBECONFIG: [first, second].join(delimiter) }))
        .server,
    ).toBe('https://two.example');
  });

  it('names a file that is not YAML', () => {
    const broken = file(dir(), 'broken', 'clusters: [unclosed');
    const err = userError(() => loadConnection({ kubeconfig: broken }, env()));
    expect(err.message).toMatch(new RegExp(`^cannot read kubeconfig ${broken}: `));
  });

  it('names an unknown --context and how to list the real ones', () => {
    const kc = file(dir(), 'kc', kubeconfigText('only', 'https://only.example'));
    const err = userError(() => loadConnection({ kubeconfig: kc, context: 'other' }, env()));
    expect(err.message).toBe('context "other" not found in kubeconfig');
    expect(err.hint).toBe('list contexts with: kubectl config get-contexts');
  });

  it('asks for --context when the kubeconfig has no current context', () => {
    const kc = file(dir(), 'kc', kubeconfigText('only', 'https://only.example', false));
    const err = userError(() => loadConnection({ kubeconfig: kc }, env()));
    expect(err.message).toBe('the kubeconfig has no current context');
  });
});
