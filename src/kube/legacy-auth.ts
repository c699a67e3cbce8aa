// The only client-node import. A separate module with one named re-export lets the bundler
// keep just KubeConfig and what it needs (2.6 MiB instead of 5.4 MiB bundled), and it is
// loaded only for kubeconfigs that use a legacy auth-provider.
export { KubeConfig } from '@kubernetes/client-node';
