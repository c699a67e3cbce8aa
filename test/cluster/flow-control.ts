// API Priority and Fairness objects that throttle one client, for the e2e tests and the
// benchmark: a priority level of very few seats and a FlowSchema sending a subject to it.

const FLOW_CONTROL = 'flowcontrol.apiserver.k8s.io/v1';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
};

/**
 * An API Priority and Fairness level of one nominal share out of ~250: about 3 seats of the
 * server's 600, nothing lent or borrowed; what it cannot seat is queued or rejected (429).
 */
export const fewSeatsPriorityLevel = (
  name: string,
  limitResponse: Record<string, unknown> = { type: 'Reject' },
): Manifest => ({
  apiVersion: FLOW_CONTROL,
  kind: 'PriorityLevelConfiguration',
  metadata: { name },
  spec: {
    type: 'Limited',
    limited: {
      nominalConcurrencyShares: 1,
      lendablePercent: 0,
      borrowingLimitPercent: 0,
      limitResponse,
    },
  },
});

/** A FlowSchema putting every request of `subject` on the priority level `level`. */
export const flowSchemaFor = (
  name: string,
  level: string,
  subject: Record<string, unknown>,
  matchingPrecedence = 10,
): Manifest => ({
  apiVersion: FLOW_CONTROL,
  kind: 'FlowSchema',
  metadata: { name },
  spec: {
    priorityLevelConfiguration: { name: level },
    matchingPrecedence,
    distinguisherMethod: { type: 'ByUser' },
    rules: [
      {
        subjects: [subject],
        resourceRules: [
          {
            verbs: ['*'],
            apiGroups: ['*'],
            resources: ['*'],
            namespaces: ['*'],
            clusterScope: true,
          },
        ],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      },
    ],
  },
});
