/**
 * The broker: issues a role session or a certificate for a named workload, through its Function URL.
 * The public face for code outside this folder; import from here, not from the files behind it:
 * - handler.ts: the Lambda entry point (the composition root);
 * - request.ts: one invocation, from the raw event (who is asking, is the request valid) to the response;
 * - broker.ts: issuing a session or a certificate, recorded in the registry and audited;
 * - ca-signing-algorithms.ts: the signing algorithm each ACM Private CA needs, read once per CA;
 * - certificate-signing.ts: signing algorithm by key algorithm, and an issued certificate's serial (pure).
 * The request and response schemas stay with the other zod schemas, in lambdas/shared/schemas/broker.ts.
 */
export { type BrokerDeps, issueCertificate, issueSession } from './broker.ts';
export { CaSigningAlgorithms } from './ca-signing-algorithms.ts';
export { certificateNotAfter, certificateSerial, signingAlgorithmFor } from './certificate-signing.ts';
export { type FunctionUrlResponse, handleBrokerEvent } from './request.ts';
