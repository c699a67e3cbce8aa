// Ed25519 signatures of snapshot.json, the RBAC escalation rule, and control characters kept
// off the terminal.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { escalationWarning } from '../../src/cli/commands/restore-report.js';
import { sanitize, table } from '../../src/cli/output.js';
import type { KubeObject } from '../../src/core/types.js';
import {
  parseSignatureFile,
  parseSigningKey,
  parseVerifyKey,
  signBytes,
  verifyBytes,
} from '../../src/crypto/sign.js';
import { escalationReason } from '../../src/restore/escalation.js';
import type { RestoreReport } from '../../src/restore/results.js';
import {
  execArgs,
  renderSchedule,
  type ScheduleSpec,
  SIGN_KEY_VAR,
} from '../../src/schedule/render.js';
import { signatureKey, snapshotNamesFromKeys } from '../../src/snapshots/layout.js';
import { selection } from './builders.js';

function pair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    priv: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    pub: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

describe('snapshot signatures', () => {
  const a = pair();
  const b = pair();
  const data = Buffer.from('{"name":"x"}\n');

  it('sign, then verify with the public key; fingerprints agree', () => {
    const s = parseSigningKey(a.priv, 'a');
    const v = parseVerifyKey(a.pub, 'a.pub');
    expect(s.fingerprint).toBe(v.fingerprint);
    expect(s.fingerprint).toMatch(/^SHA256:[0-9a-f]{64}$/);
    const sig = parseSignatureFile(signBytes(data, s));
    if (typeof sig === 'string') throw new Error(sig);
    expect(sig.keyFingerprint).toBe(v.fingerprint);
    expect(verifyBytes(data, sig, v)).toBe(true);
  });

  it('a changed byte, or another key, does not verify', () => {
    const sig = parseSignatureFile(signBytes(data, parseSigningKey(a.priv, 'a')));
    if (typeof sig === 'string') throw new Error(sig);
    expect(verifyBytes(Buffer.from('{"name":"y"}\n'), sig, parseVerifyKey(a.pub, 'a'))).toBe(false);
    expect(verifyBytes(data, sig, parseVerifyKey(b.pub, 'b'))).toBe(false);
  });

  it('refuses keys that are not Ed25519, and a private key given as the public one', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() =>
      parseSigningKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }), 'rsa.pem'),
    ).toThrow(/not an Ed25519 private key/);
    expect(() => parseVerifyKey(a.priv, 'k.pem')).toThrow(/give the public key/);
    expect(() => parseSigningKey('junk', 'junk.pem')).toThrow(/no readable private key/);
  });

  it('a damaged signature object says what is wrong', () => {
    expect(parseSignatureFile(Buffer.from('nope'))).toMatch(/not JSON/);
    expect(parseSignatureFile(Buffer.from('{"algorithm":"rsa"}'))).toMatch(/unknown algorithm/);
  });

  it('lives next to snapshot.json and does not make a name a snapshot', () => {
    expect(signatureKey('n')).toBe('snapshots/n/snapshot.json.sig');
    expect(snapshotNamesFromKeys(['snapshots/n/snapshot.json.sig'], 'snapshot.json')).toEqual([]);
  });
});

const binding = (
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  role: string,
  roleKind = 'ClusterRole',
): KubeObject =>
  ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name: 'b', ...(kind === 'RoleBinding' ? { namespace: 'shop' } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
    subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'shop' }],
  }) as KubeObject;

const clusterRole = (verbs: string[]): KubeObject =>
  ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'custom' },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs }],
  }) as KubeObject;

const RB = 'rolebindings.rbac.authorization.k8s.io';
const CRB = 'clusterrolebindings.rbac.authorization.k8s.io';

describe('RBAC escalation rule', () => {
  it('lists every ClusterRoleBinding', () => {
    expect(escalationReason(CRB, binding('ClusterRoleBinding', 'view'), undefined)).toBe(
      'binds ClusterRole view cluster-wide',
    );
    expect(
      escalationReason(CRB, binding('ClusterRoleBinding', 'cluster-admin'), undefined),
    ).toMatch(/cluster-admin \(full control of the cluster\) cluster-wide/);
  });

  it('lists RoleBindings to cluster-admin, admin and edit', () => {
    for (const r of ['cluster-admin', 'admin', 'edit'])
      expect(escalationReason(RB, binding('RoleBinding', r), undefined)).toMatch(
        new RegExp(`binds ClusterRole ${r} .* in namespace shop`),
      );
  });

  it('lists a RoleBinding to a ClusterRole with * verbs, not one with named verbs', () => {
    expect(escalationReason(RB, binding('RoleBinding', 'custom'), clusterRole(['*']))).toMatch(
      /every verb on secrets/,
    );
    expect(
      escalationReason(RB, binding('RoleBinding', 'custom'), clusterRole(['get', 'list'])),
    ).toBeUndefined();
    expect(escalationReason(RB, binding('RoleBinding', 'custom'), undefined)).toBeUndefined();
    expect(escalationReason(RB, binding('RoleBinding', 'view'), undefined)).toBeUndefined();
    expect(
      escalationReason(RB, binding('RoleBinding', 'admin', 'Role'), undefined),
    ).toBeUndefined();
  });

  it('the report warns before the summary', () => {
    const report = {
      snapshot: 's',
      results: [],
      totals: {},
      escalations: [
        { resource: RB, kind: 'RoleBinding', namespace: 'shop', name: 'b', reason: 'binds X' },
      ],
    } as unknown as RestoreReport;
    expect(escalationWarning(report)).toBe(
      `warning: 1 binding(s) in this snapshot grant wide RBAC rights; check who they name before trusting the snapshot:\n  ${RB}/b -n shop: binds X\n\n`,
    );
    expect(escalationWarning({ ...report, escalations: [] })).toBe('');
  });
});

describe('control characters', () => {
  it('strips ANSI escapes, C0 and C1 characters and bidi overrides', () => {
    expect(sanitize('a\u001b[2Jb')).toBe('ab');
    expect(sanitize('\u001b]0;owned\u0007title')).toBe('title');
    expect(sanitize('x\u009b31my\u0085z\u202e')).toBe('xyz');
    expect(sanitize('bell\u0007 nul\u0000 del\u007f')).toBe('bell nul del');
    expect(sanitize('one\ntwo\tthree\r')).toBe('one two three ');
  });

  it('keeps newlines in multi-line values', () => {
    expect(sanitize('one\r\ntwo\u001b[31m\n', true)).toBe('one\ntwo\n');
  });

  it('every table cell is sanitized', () => {
    expect(table(['NAME'], [['evil\u001b[2J\u001b[H']])).toBe('NAME\nevil\n');
  });
});

describe('a schedule that signs', () => {
  const spec = (sign: boolean): ScheduleSpec => ({
    name: 'nightly',
    installNamespace: 'ks',
    schedule: '@daily',
    suspend: false,
    image: 'img',
    storage: {
      kind: 's3',
      bucket: 'backups',
      prefix: 'p',
      endpoint: 'https://minio:9000',
      region: 'us-east-1',
      pathStyle: true,
    },
    selection: selection(['shop']),
    labels: {},
    encryptTo: [],
    ...(sign ? { sign: true } : {}),
    keep: {},
  });
  const PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIK\n-----END PRIVATE KEY-----\n';

  it('the key goes into the Secret only; the CronJob says --sign', () => {
    const r = renderSchedule({ spec: spec(true), types: [], credentials: {}, signingKeyPem: PEM });
    const secret = r.objects.find((o) => o.kind === 'Secret') as KubeObject & {
      data: Record<string, string>;
    };
    expect(Buffer.from(secret.data[SIGN_KEY_VAR] as string, 'base64').toString()).toBe(PEM);
    const cron = JSON.stringify(r.objects.find((o) => o.kind === 'CronJob'));
    expect(cron).not.toContain('PRIVATE KEY');
    expect(cron).not.toContain(Buffer.from(PEM).toString('base64'));
    expect(execArgs(spec(true))).toContain('--sign');
    expect(execArgs(spec(false))).not.toContain('--sign');
    const red = renderSchedule({
      spec: spec(true),
      types: [],
      credentials: {},
      signingKeyPem: PEM,
      redact: true,
    });
    expect(JSON.stringify(red)).not.toContain(Buffer.from(PEM).toString('base64'));
  });
});
