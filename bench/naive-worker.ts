/**
 * The naive baseline's workers: N loops polling its queue like an event source mapping, each
 * revoking one session at a time by read-modify-write of the role's one inline policy.
 */
import {
  GetRolePolicyCommand,
  type IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ceilToSecondIso } from './workloads.ts';

export const NAIVE_POLICY_NAME = 'NaiveRevokedSessions';
/** IAM quota: aggregate inline policy size of one role (the emulator does not enforce it). */
const INLINE_LIMIT = 10_240;

interface NaiveStatement {
  Effect: 'Deny';
  Action: '*';
  Resource: '*';
  Condition: { StringLike: { 'aws:userid': string[] }; DateLessThan: { 'aws:TokenIssueTime': string } };
}

interface NaiveDocument {
  Version: '2012-10-17';
  Statement: NaiveStatement[];
}

function policySize(doc: NaiveDocument): number {
  return JSON.stringify(doc).length;
}

export interface NaiveOutcome {
  /** Instance -> time its PutRolePolicy returned. */
  writtenAt: Map<string, number>;
  refused: Set<string>;
  unknown: number;
  errors: string[];
  /** When the last message was handled (written, refused or failed). */
  lastHandledAt: number;
}

/** One revocation, the naive way: read the role's policy, append, write it back. */
async function revokeOne(
  iam: IAMClient,
  roleName: string,
  sessionName: string,
  bound: string,
): Promise<'written' | 'refused'> {
  let doc: NaiveDocument = { Version: '2012-10-17', Statement: [] };
  try {
    const res = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: NAIVE_POLICY_NAME }),
    );
    doc = JSON.parse(decodeURIComponent(res.PolicyDocument ?? '')) as NaiveDocument;
  } catch (err) {
    if (!(err instanceof NoSuchEntityException)) throw err;
  }
  const value = `*:${sessionName}`;
  const statement = doc.Statement.find((s) => s.Condition.DateLessThan['aws:TokenIssueTime'] === bound);
  if (statement) {
    if (!statement.Condition.StringLike['aws:userid'].includes(value))
      statement.Condition.StringLike['aws:userid'].push(value);
  } else {
    doc.Statement.push({
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringLike: { 'aws:userid': [value] }, DateLessThan: { 'aws:TokenIssueTime': bound } },
    });
  }
  if (policySize(doc) > INLINE_LIMIT) return 'refused'; // IAM: LimitExceeded; the emulator would accept it
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: NAIVE_POLICY_NAME,
      PolicyDocument: JSON.stringify(doc),
    }),
  );
  return 'written';
}

/**
 * N workers polling the queue like an event source mapping (batch 10, 100 ms idle wait).
 * `iamFor(account)`: the IAM client for the event's account (one client when single-account).
 */
export function startWorkers(
  iamFor: (account: string | undefined) => Promise<IAMClient>,
  sqs: SQSClient,
  queueUrl: string,
  roleOf: Map<string, string>,
  concurrency: number,
): { outcome: NaiveOutcome; busy: () => boolean; stop: () => Promise<void> } {
  const outcome: NaiveOutcome = {
    writtenAt: new Map(),
    refused: new Set(),
    unknown: 0,
    errors: [],
    lastHandledAt: 0,
  };
  let running = true;
  let busy = 0;
  const worker = async () => {
    while (running) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      busy++;
      try {
        for (const m of messages) {
          const event = JSON.parse(m.Body ?? '{}') as {
            account?: string;
            time?: string;
            detail?: { 'instance-id'?: string };
          };
          const id = event.detail?.['instance-id'] ?? '';
          const roleName = roleOf.get(id);
          if (!roleName) {
            outcome.unknown++;
            continue;
          }
          const bound = ceilToSecondIso(Date.parse(event.time ?? ''));
          try {
            const result = await revokeOne(await iamFor(event.account), roleName, id, bound);
            if (result === 'written') outcome.writtenAt.set(id, Date.now());
            else outcome.refused.add(id);
          } catch (err) {
            // A quick script gives up on the message: it is deleted with the batch.
            outcome.errors.push((err as Error).message.slice(0, 200));
          }
          outcome.lastHandledAt = Date.now();
        }
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      } finally {
        busy--;
      }
    }
  };
  const loops = Array.from({ length: concurrency }, worker);
  return {
    outcome,
    busy: () => busy > 0,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
