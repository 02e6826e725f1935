/**
 * The broker's ACM Private CA permissions: what issuing a certificate calls (DescribeCertificateAuthority
 * for the signing algorithm, IssueCertificate, GetCertificate for the serial), on the configured CAs only.
 */
import { describe, expect, it } from 'vitest';
import type { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import {
  ACCOUNT,
  actionsOf,
  logicalIdOf,
  REGION,
  resourcesOf,
  roleStatements,
  sundownTemplate,
} from './support.ts';

const CA_ARN = `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`;

function brokerAcmPcaStatements(config: Record<string, unknown>) {
  const { stack, template } = sundownTemplate(config);
  const role = (stack.sundown.node.findChild('Broker') as SundownFunction).role;
  return roleStatements(template, logicalIdOf(role)).filter((s) =>
    actionsOf(s).some((a) => a.startsWith('acm-pca:')),
  );
}

describe('broker permissions on ACM Private CA', () => {
  it('allows describing, issuing from and reading certificates of exactly the configured CAs', () => {
    // Act
    const statements = brokerAcmPcaStatements({ certificateAuthorityArns: [CA_ARN] });

    // Assess
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement?.Effect).toBe('Allow');
    expect(statement && [...actionsOf(statement)].sort()).toEqual([
      'acm-pca:DescribeCertificateAuthority',
      'acm-pca:GetCertificate',
      'acm-pca:IssueCertificate',
    ]);
    expect(statement && resourcesOf(statement)).toEqual([CA_ARN]);
  });

  it('grants nothing on ACM Private CA when no CA is configured', () => {
    expect(brokerAcmPcaStatements({})).toEqual([]);
  });
});
