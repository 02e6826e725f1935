/**
 * The workload liveness adapter with fake AWS clients: what each platform's answer means, and that
 * every error or ambiguous answer reads as `unknown` (on which the sweep never revokes). Covers what
 * the emulator cannot: Batch (needs Docker in moto), CodeBuild (moto's answers do not deserialize in
 * the SDK v3), ECS MISSING failures (moto leaves missing tasks out silently), throttling.
 */
import type { DescribeJobsCommand } from '@aws-sdk/client-batch';
import type { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import type { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import type { GetFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { normalizeWorkloadId } from '../../lambdas/shared/domain/workload-id.ts';
import {
  AwsWorkloadLiveness,
  type LivenessClients,
  transitionTime,
} from '../../lambdas/sweep/workload-liveness.ts';

const CTX = { account: '123456789012', region: 'us-east-1' };
const w = (id: string) => normalizeWorkloadId(id, CTX);

function awsError(name: string): Error {
  return Object.assign(new Error(`${name} for test`), { name });
}

type Handler = (command: unknown) => unknown;

function clients(handlers: Partial<Record<keyof LivenessClients, Handler>>): {
  clients: LivenessClients;
  calls: unknown[];
} {
  const calls: unknown[] = [];
  const client = (h: Handler | undefined) => ({
    send: async (command: unknown) => {
      calls.push(command);
      if (!h) throw new Error('unexpected call');
      return h(command);
    },
  });
  return {
    clients: {
      ec2: client(handlers.ec2),
      ecs: client(handlers.ecs),
      lambda: client(handlers.lambda),
      batch: client(handlers.batch),
      codebuild: client(handlers.codebuild),
    } as unknown as LivenessClients,
    calls,
  };
}

const liveness = (c: LivenessClients, stoppedEndsWorkload = false) =>
  new AwsWorkloadLiveness(c, { ...CTX, stoppedEndsWorkload });

describe('EC2', () => {
  it('reads terminated and shutting-down as ended (with the transition time), running as live', async () => {
    const { clients: c } = clients({
      ec2: () => ({
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-00000000000000001',
                State: { Name: 'terminated' },
                StateTransitionReason: 'User initiated (2024-05-01 12:34:56 GMT)',
              },
              { InstanceId: 'i-00000000000000002', State: { Name: 'running' } },
              { InstanceId: 'i-00000000000000003', State: { Name: 'stopped' } },
            ],
          },
        ],
      }),
    });
    const answers = await liveness(c).check([
      w('i-00000000000000001'),
      w('i-00000000000000002'),
      w('i-00000000000000003'),
    ]);

    expect([...answers.values()]).toEqual([
      { state: 'ended', endedAt: '2024-05-01T12:34:56.000Z', detail: 'instance is terminated' },
      { state: 'live', detail: 'instance is running' },
      { state: 'live', detail: 'instance is stopped' },
    ]);
  });

  it('reads stopped as ended when stoppedEndsWorkload is set', async () => {
    const { clients: c } = clients({
      ec2: () => ({
        Reservations: [{ Instances: [{ InstanceId: 'i-00000000000000003', State: { Name: 'stopped' } }] }],
      }),
    });
    const answers = await liveness(c, true).check([w('i-00000000000000003')]);
    expect([...answers.values()][0]?.state).toBe('ended');
  });

  it('asks one by one when one unknown ID fails the batch, and reads NotFound as gone', async () => {
    const { clients: c, calls } = clients({
      ec2: (cmd) => {
        const ids = (cmd as DescribeInstancesCommand).input.InstanceIds ?? [];
        if (ids.includes('i-0000000000000000f')) throw awsError('InvalidInstanceID.NotFound');
        return {
          Reservations: [
            { Instances: ids.map((InstanceId) => ({ InstanceId, State: { Name: 'running' } })) },
          ],
        };
      },
    });
    const answers = await liveness(c).check([w('i-0000000000000000f'), w('i-00000000000000002')]);

    expect(answers.get(w('i-0000000000000000f').id)?.state).toBe('gone');
    expect(answers.get(w('i-00000000000000002').id)?.state).toBe('live');
    expect(calls).toHaveLength(3);
  });

  it('reads any other error as unknown', async () => {
    const { clients: c } = clients({
      ec2: () => {
        throw awsError('RequestLimitExceeded');
      },
    });
    const answers = await liveness(c).check([w('i-00000000000000001')]);
    expect([...answers.values()][0]).toMatchObject({ state: 'unknown' });
    expect([...answers.values()][0]?.detail).toMatch(/DescribeInstances failed \(RequestLimitExceeded/);
  });

  it('parses EC2 transition reasons', () => {
    expect(transitionTime('User initiated (2024-05-01 12:34:56 GMT)')).toBe('2024-05-01T12:34:56.000Z');
    expect(transitionTime('Server.SpotInstanceTermination')).toBeUndefined();
    expect(transitionTime(undefined)).toBeUndefined();
  });
});

describe('ECS', () => {
  const task = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/payments/${id}`;

  it('reads STOPPED as ended, RUNNING as live, a MISSING failure as gone, silence as unknown', async () => {
    const { clients: c, calls } = clients({
      ecs: () => ({
        tasks: [
          { taskArn: task('a1'), lastStatus: 'STOPPED', stoppedAt: new Date('2024-05-01T10:00:00Z') },
          { taskArn: task('a2'), lastStatus: 'RUNNING' },
          { taskArn: task('a3'), lastStatus: 'DEACTIVATING' },
        ],
        failures: [{ arn: task('a4'), reason: 'MISSING' }],
      }),
    });
    const answers = await liveness(c).check(['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => w(task(id))));

    expect([...answers.values()].map((l) => l.state)).toEqual(['ended', 'live', 'live', 'gone', 'unknown']);
    expect(answers.get(task('a1'))).toMatchObject({ endedAt: '2024-05-01T10:00:00.000Z' });
    expect((calls[0] as DescribeTasksCommand).input.cluster).toBe('payments');
  });

  it('reads a deleted cluster as gone, and never guesses the cluster of an old-format task ARN', async () => {
    const { clients: c } = clients({
      ecs: () => {
        throw awsError('ClusterNotFoundException');
      },
    });
    const old = w('arn:aws:ecs:us-east-1:123456789012:task/0123456789abcdef0123456789abcdef');
    const answers = await liveness(c).check([w(task('b1')), old]);

    expect(answers.get(task('b1'))?.state).toBe('gone');
    expect(answers.get(old.id)?.state).toBe('unknown');
  });
});

describe('Lambda', () => {
  it('reads ResourceNotFoundException as gone and an answer as live, asking only for the concurrency', async () => {
    const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
    const { clients: c, calls } = clients({
      lambda: (cmd) => {
        if ((cmd as GetFunctionConcurrencyCommand).input.FunctionName === fn('deleted')) {
          throw awsError('ResourceNotFoundException');
        }
        return {};
      },
    });
    const answers = await liveness(c).check([w(fn('deleted')), w(fn('resize'))]);

    expect(answers.get(fn('deleted'))?.state).toBe('gone');
    expect(answers.get(fn('resize'))?.state).toBe('live');
    // One GetFunctionConcurrency per function and nothing else (an empty list would prove nothing).
    expect(calls.map((cmd) => (cmd as object).constructor.name)).toEqual([
      'GetFunctionConcurrencyCommand',
      'GetFunctionConcurrencyCommand',
    ]);
  });
});

describe('Batch and CodeBuild', () => {
  it('reads finished jobs as ended, running ones as live, absent ones as gone', async () => {
    const job = (id: string) => `arn:aws:batch:us-east-1:123456789012:job/${id}`;
    const { clients: c } = clients({
      batch: (cmd) => {
        expect((cmd as DescribeJobsCommand).input.jobs).toEqual(['j-1', 'j-2', 'j-3']);
        return {
          jobs: [
            { jobId: 'j-1', status: 'SUCCEEDED', stoppedAt: Date.parse('2024-05-01T10:00:00Z') },
            { jobId: 'j-2', status: 'RUNNING' },
          ],
        };
      },
    });
    const answers = await liveness(c).check([w(job('j-1')), w(job('j-2')), w(job('j-3'))]);
    expect([...answers.values()].map((l) => l.state)).toEqual(['ended', 'live', 'gone']);
  });

  it('reads complete builds as ended, buildsNotFound as gone, an unreadable answer as unknown', async () => {
    const build = (uuid: string) => `arn:aws:codebuild:us-east-1:123456789012:build/site:${uuid}`;
    const [done, running, missing] = [
      '00000000-0000-4000-8000-000000000001',
      '00000000-0000-4000-8000-000000000002',
      '00000000-0000-4000-8000-000000000003',
    ];
    const { clients: c } = clients({
      codebuild: (cmd) => {
        expect((cmd as BatchGetBuildsCommand).input.ids).toEqual([
          `site:${done}`,
          `site:${running}`,
          `site:${missing}`,
        ]);
        return {
          builds: [
            { id: `site:${done}`, buildComplete: true, buildStatus: 'SUCCEEDED' },
            { id: `site:${running}`, buildComplete: false, buildStatus: 'IN_PROGRESS' },
          ],
          buildsNotFound: [`site:${missing}`],
        };
      },
    });
    const answers = await liveness(c).check([w(build(done)), w(build(running)), w(build(missing))]);
    expect([...answers.values()].map((l) => l.state)).toEqual(['ended', 'live', 'gone']);

    const { clients: broken } = clients({
      codebuild: () => {
        throw awsError('DeserializationError');
      },
    });
    expect([...(await liveness(broken).check([w(build(done))])).values()][0]?.state).toBe('unknown');
  });
});

describe('what is never checked', () => {
  it('answers unknown for custom workloads and workloads of another account or region, without a call', async () => {
    const { clients: c, calls } = clients({});
    const answers = await liveness(c).check([
      w('ci/build-7'),
      w('arn:aws:ec2:eu-west-1:123456789012:instance/i-00000000000000001'),
      w('arn:aws:ec2:us-east-1:210987654321:instance/i-00000000000000001'),
    ]);
    expect([...answers.values()].map((l) => l.state)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(calls).toEqual([]);
  });
});
