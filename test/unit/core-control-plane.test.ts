import { describe, expect, it } from 'vitest';
import { controlPlaneOwned } from '../../src/core/control-plane.js';
import { clusterRole, kubeObject, withAnnotations, withLabels } from './builders.js';

const RBAC = 'rbac.authorization.k8s.io';

describe('controlPlaneOwned', () => {
  it('names bootstrap RBAC by its autoupdate annotation, not by its name', () => {
    const admin = withAnnotations(clusterRole('admin', []), {
      'rbac.authorization.kubernetes.io/autoupdate': 'true',
    });
    expect(controlPlaneOwned(`clusterroles.${RBAC}`, admin)).toMatch(/bootstrap RBAC/);
    // An operator's ClusterRole, even one called like a built-in, is the user's.
    expect(controlPlaneOwned(`clusterroles.${RBAC}`, clusterRole('admin', []))).toBeUndefined();
    // The user turned reconciliation off: the API server no longer owns it.
    const pinned = withAnnotations(clusterRole('edit', []), {
      'rbac.authorization.kubernetes.io/autoupdate': 'false',
    });
    expect(controlPlaneOwned(`clusterroles.${RBAC}`, pinned)).toBeUndefined();
  });

  it('names automanaged APIServices but not those of an extension API server', () => {
    const apiService = (name: string) =>
      kubeObject('apiregistration.k8s.io/v1', 'APIService', name, undefined);
    const builtIn = withLabels(apiService('v1.apps'), {
      'kube-aggregator.kubernetes.io/automanaged': 'onstart',
    });
    expect(controlPlaneOwned('apiservices.apiregistration.k8s.io', builtIn)).toMatch(/automanaged/);
    expect(
      controlPlaneOwned('apiservices.apiregistration.k8s.io', apiService('v1beta1.metrics.k8s.io')),
    ).toBeUndefined();
  });

  it('names every Service IP allocation and the default ServiceCIDR, not a user-made ServiceCIDR', () => {
    const net = (kind: string, name: string) =>
      kubeObject('networking.k8s.io/v1', kind, name, undefined);
    expect(
      controlPlaneOwned('ipaddresses.networking.k8s.io', net('IPAddress', '10.96.0.1')),
    ).toMatch(/IP allocation/);
    expect(
      controlPlaneOwned('servicecidrs.networking.k8s.io', net('ServiceCIDR', 'kubernetes')),
    ).toMatch(/default ServiceCIDR/);
    expect(
      controlPlaneOwned('servicecidrs.networking.k8s.io', net('ServiceCIDR', 'extra-range')),
    ).toBeUndefined();
  });

  it('names the API Priority and Fairness defaults the API server keeps up to date', () => {
    const flowSchema = (name: string, autoupdate?: string) =>
      kubeObject(
        'flowcontrol.apiserver.k8s.io/v1',
        'FlowSchema',
        name,
        undefined,
        {},
        autoupdate ? { annotations: { 'apf.kubernetes.io/autoupdate-spec': autoupdate } } : {},
      );
    const fs = 'flowschemas.flowcontrol.apiserver.k8s.io';
    expect(controlPlaneOwned(fs, flowSchema('exempt', 'true'))).toMatch(/Priority and Fairness/);
    expect(controlPlaneOwned(fs, flowSchema('mine', 'false'))).toBeUndefined();
    expect(controlPlaneOwned(fs, flowSchema('mine'))).toBeUndefined();
  });

  it('names node-bound objects and certificate requests, and system-* PriorityClasses only', () => {
    const any = (apiVersion: string, kind: string, name: string) =>
      kubeObject(apiVersion, kind, name, undefined);
    expect(controlPlaneOwned('nodes', any('v1', 'Node', 'worker-1'))).toMatch(/node/);
    expect(
      controlPlaneOwned(
        'volumeattachments.storage.k8s.io',
        any('storage.k8s.io/v1', 'VolumeAttachment', 'csi-1'),
      ),
    ).toMatch(/attaches a volume/);
    expect(
      controlPlaneOwned(
        'certificatesigningrequests.certificates.k8s.io',
        any('certificates.k8s.io/v1', 'CertificateSigningRequest', 'csr-1'),
      ),
    ).toMatch(/certificate request/);
    const pc = 'priorityclasses.scheduling.k8s.io';
    expect(
      controlPlaneOwned(pc, any('scheduling.k8s.io/v1', 'PriorityClass', 'system-node-critical')),
    ).toMatch(/built-in/);
    expect(
      controlPlaneOwned(pc, any('scheduling.k8s.io/v1', 'PriorityClass', 'batch-low')),
    ).toBeUndefined();
  });

  it('owns nothing of types it has no rule for', () => {
    expect(
      controlPlaneOwned(
        'storageclasses.storage.k8s.io',
        kubeObject('storage.k8s.io/v1', 'StorageClass', 'standard', undefined),
      ),
    ).toBeUndefined();
  });
});
