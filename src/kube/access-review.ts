// The two questions a user may always ask the API server about their own rights (every
// authenticated user may create these reviews): one type and verb, or every rule in a namespace.
import { ApiError, type KubeClient } from './client.js';

export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
}

/** A SelfSubjectAccessReview; an API error (the review itself refused) answers no. */
export async function accessAllowed(
  client: KubeClient,
  resourceAttributes: ResourceAttributes,
): Promise<boolean> {
  try {
    const review = await client.request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes },
        },
      },
    );
    return review.status?.allowed === true;
  } catch (err) {
    if (err instanceof ApiError) return false;
    throw err;
  }
}

export interface ReviewedRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/**
 * A SelfSubjectRulesReview of one namespace; undefined when the review failed (the caller then
 * learns by trying). `incomplete`: the authorizer could not list every rule (not RBAC).
 */
export async function rulesReview(
  client: KubeClient,
  namespace: string,
): Promise<{ rules: ReviewedRule[]; incomplete: boolean } | undefined> {
  try {
    const review = await client.request<{
      status?: { resourceRules?: ReviewedRule[]; incomplete?: boolean };
    }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectRulesReview',
        spec: { namespace },
      },
    });
    return {
      rules: review.status?.resourceRules ?? [],
      incomplete: review.status?.incomplete ?? true,
    };
  } catch (err) {
    if (err instanceof ApiError) return undefined;
    throw err;
  }
}
