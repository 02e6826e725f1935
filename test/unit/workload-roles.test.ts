/**
 * Role resolution with fake EC2, ECS and IAM clients: the event's own data first, describe calls only to
 * fill gaps; a workload that is gone has no role, a transient failure or a refusal of Sundown's own
 * permissions is thrown for the queue to retry. (moto shows the deleted-cluster case too, in
 * test/integration/role-resolution.test.ts; the throttling and access-denied cases it cannot show.)
 */
import { DescribeInstancesCommand, type EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  ClientException,
  ClusterNotFoundException,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ECSServiceException,
} from '@aws-sdk/client-ecs';
import type { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { normalizeWorkloadId } from '../../lambdas/shared/domain/workload-id.ts';
import { AwsWorkloadRoleResolver, isTransient } from '../../lambdas/workload-roles/index.ts';

const ACCOUNT = '123456789012';
const TASK = normalizeWorkloadId(
  `arn:aws:ecs:us-east-1:${ACCOUNT}:task/ci-7f3a/8f3c5d2e1a4b4c6d9e7f0a1b2c3d4e5f`,
);
const INSTANCE = normalizeWorkloadId('i-0abcd1234ef567890', { account: ACCOUNT, region: 'us-east-1' });
const DEFINITION = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/ci-worker:3`;
const DEFINITION_ROLE = `arn:aws:iam::${ACCOUNT}:role/ci/worker-task-role`;
const OVERRIDE_ROLE = `arn:aws:iam::${ACCOUNT}:role/ci/override-role`;
const INSTANCE_ROLE = `arn:aws:iam::${ACCOUNT}:role/web`;

type Handler = (command: object) => unknown;

/** Clients whose send() dispatches on the command class; every call is recorded by class name. */
function fakes(handlers: { ec2?: Handler; ecs?: Handler; iam?: Handler }) {
  const calls: string[] = [];
  const client = (handler: Handler | undefined) => ({
    send: async (command: object) => {
      calls.push(command.constructor.name);
      if (!handler) throw new Error(`unexpected ${command.constructor.name}`);
      return handler(command);
    },
  });
  const resolver = new AwsWorkloadRoleResolver({
    ec2: client(handlers.ec2) as unknown as EC2Client,
    ecs: client(handlers.ecs) as unknown as ECSClient,
    iam: client(handlers.iam) as unknown as IAMClient,
  });
  return { resolver, calls };
}

const clusterGone = () => {
  throw new ClusterNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Cluster not found.' });
};
const ecsError = (name: string, fault: 'client' | 'server' = 'client', status = 400) =>
  new ECSServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: name });

/** A cluster that was deleted: DescribeTasks fails, task definitions are still readable. */
const deletedCluster: Handler = (command) => {
  if (command instanceof DescribeTasksCommand) clusterGone();
  if (command instanceof DescribeTaskDefinitionCommand)
    return { taskDefinition: { taskRoleArn: DEFINITION_ROLE } };
  throw new Error('unexpected');
};

describe('AwsWorkloadRoleResolver: ECS', () => {
  it('takes the role override the event names, without any call', async () => {
    const { resolver, calls } = fakes({ ecs: deletedCluster });

    const role = await resolver.resolveRole(TASK, { roleArn: OVERRIDE_ROLE, taskDefinitionArn: DEFINITION });

    expect(role).toBe(OVERRIDE_ROLE);
    expect(calls).toEqual([]);
  });

  it('reads the task definition the event names, although the cluster is gone', async () => {
    // Prepare
    const { resolver, calls } = fakes({ ecs: deletedCluster });

    // Act
    const role = await resolver.resolveRole(TASK, { taskDefinitionArn: DEFINITION });

    // Assess
    expect(role).toBe(DEFINITION_ROLE);
    expect(calls).toEqual(['DescribeTaskDefinitionCommand']);
  });

  it('describes the task only when the event named neither override nor definition', async () => {
    const { resolver, calls } = fakes({
      ecs: (command) => {
        if (command instanceof DescribeTasksCommand) {
          return { tasks: [{ overrides: { taskRoleArn: OVERRIDE_ROLE }, taskDefinitionArn: DEFINITION }] };
        }
        throw new Error('unexpected');
      },
    });

    expect(await resolver.resolveRole(TASK)).toBe(OVERRIDE_ROLE);
    expect(calls).toEqual(['DescribeTasksCommand']);
  });

  it('falls back from the described task to its definition', async () => {
    const { resolver, calls } = fakes({
      ecs: (command) => {
        if (command instanceof DescribeTasksCommand) return { tasks: [{ taskDefinitionArn: DEFINITION }] };
        return { taskDefinition: { taskRoleArn: DEFINITION_ROLE } };
      },
    });

    expect(await resolver.resolveRole(TASK)).toBe(DEFINITION_ROLE);
    expect(calls).toEqual(['DescribeTasksCommand', 'DescribeTaskDefinitionCommand']);
  });

  it('has no role for a task whose cluster is gone when the event named nothing', async () => {
    const { resolver } = fakes({ ecs: deletedCluster });

    expect(await resolver.resolveRole(TASK)).toBeUndefined();
  });

  it('has no role when the task definition is gone too', async () => {
    const { resolver } = fakes({
      ecs: () => {
        throw new ClientException({
          $metadata: { httpStatusCode: 400 },
          message: 'Unable to describe task definition.',
        });
      },
    });

    expect(await resolver.resolveRole(TASK, { taskDefinitionArn: DEFINITION })).toBeUndefined();
  });

  it.each([
    ['throttled', ecsError('ThrottlingException')],
    ['a server error', ecsError('ServerException', 'server', 500)],
    ["denied Sundown's own access", ecsError('AccessDeniedException')],
  ])('throws when ECS is %s, so the event is retried', async (_label, error) => {
    const { resolver } = fakes({
      ecs: () => {
        throw error;
      },
    });

    await expect(resolver.resolveRole(TASK, { taskDefinitionArn: DEFINITION })).rejects.toBe(error);
  });
});

describe('AwsWorkloadRoleResolver: EC2', () => {
  it('follows the instance profile to its role', async () => {
    const { resolver, calls } = fakes({
      ec2: () => ({
        Reservations: [
          {
            Instances: [
              { IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile` } },
            ],
          },
        ],
      }),
      iam: (command) => {
        expect((command as GetInstanceProfileCommand).input.InstanceProfileName).toBe('web-profile');
        return { InstanceProfile: { Roles: [{ Arn: INSTANCE_ROLE }] } };
      },
    });

    expect(await resolver.resolveRole(INSTANCE)).toBe(INSTANCE_ROLE);
    expect(calls).toEqual(['DescribeInstancesCommand', 'GetInstanceProfileCommand']);
  });

  it('has no role for an instance EC2 no longer knows, or one without a profile', async () => {
    const notFound = fakes({
      ec2: () => {
        throw new EC2ServiceException({
          name: 'InvalidInstanceID.NotFound',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'The instance ID does not exist',
        });
      },
    });
    const noProfile = fakes({ ec2: () => ({ Reservations: [{ Instances: [{}] }] }) });

    expect(await notFound.resolver.resolveRole(INSTANCE)).toBeUndefined();
    expect(await noProfile.resolver.resolveRole(INSTANCE)).toBeUndefined();
    expect(noProfile.calls).toEqual(['DescribeInstancesCommand']);
  });

  it('throws on a throttled DescribeInstances', async () => {
    const throttled = new EC2ServiceException({
      name: 'RequestLimitExceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 503 },
      message: 'Request limit exceeded.',
    });
    const { resolver } = fakes({
      ec2: (command) => {
        expect(command).toBeInstanceOf(DescribeInstancesCommand);
        throw throttled;
      },
    });

    await expect(resolver.resolveRole(INSTANCE)).rejects.toBe(throttled);
  });
});

describe('isTransient', () => {
  it.each([
    [{ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, true],
    [{ name: 'X', $metadata: { httpStatusCode: 503 } }, true],
    [{ name: 'X', $metadata: { httpStatusCode: 429 } }, true],
    [{ name: 'X', $fault: 'server' }, true],
    [{ name: 'X', $retryable: {} }, true],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    [{ name: 'ClusterNotFoundException', $metadata: { httpStatusCode: 400 } }, false],
    [{ name: 'InvalidInstanceID.NotFound', $metadata: { httpStatusCode: 400 } }, false],
    [undefined, false],
  ])('%j -> %s', (error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});
