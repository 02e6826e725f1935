import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SESSION_NAME_PATTERN } from '../../lambdas/shared/domain/workload-id.ts';
import { type Classification, classifyEvent } from '../../lambdas/triggers/classify.ts';

type Json = Record<string, unknown> & { detail: Record<string, unknown> };
const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8')) as Json;

/** Narrows a classification to one kind, failing the test with the actual result otherwise. */
function expectKind<K extends Classification['kind']>(
  result: Classification,
  kind: K,
): Extract<Classification, { kind: K }> {
  expect(result, JSON.stringify(result)).toMatchObject({ kind });
  return result as Extract<Classification, { kind: K }>;
}

const INSTANCE_ARN = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abcd1234ef567890';

describe('classifyEvent: EC2 state change', () => {
  it('ends the workload on terminated, at the event time', () => {
    // Act
    const result = expectKind(classifyEvent(fixture('ec2-instance-state-change')), 'workload-ended');
    // Assess
    expect(result).toEqual({
      kind: 'workload-ended',
      workload: {
        id: INSTANCE_ARN,
        kind: 'ec2',
        sessionName: 'i-0abcd1234ef567890',
        reusableSessionName: false,
      },
      endedAt: '2024-05-14T12:34:56.000Z',
      reason: 'ec2:terminated',
      compromised: false,
      dryRun: false,
      trigger: {
        eventId: '7bf73129-1428-4cd3-a780-95db273d1602',
        source: 'aws.ec2',
        detailType: 'EC2 Instance State-change Notification',
        account: '123456789012',
        region: 'us-east-1',
      },
    });
  });

  it('ends the workload on shutting-down', () => {
    const event = fixture('ec2-instance-state-change');
    event.detail.state = 'shutting-down';
    expect(expectKind(classifyEvent(event), 'workload-ended').reason).toBe('ec2:shutting-down');
  });

  it('starts the workload on running', () => {
    const event = fixture('ec2-instance-state-change');
    event.detail.state = 'running';
    const result = expectKind(classifyEvent(event), 'workload-started');
    expect(result.workload.id).toBe(INSTANCE_ARN);
    expect(result.startedAt).toBe('2024-05-14T12:34:56.000Z');
    expect(result.roleHint).toBeUndefined();
  });

  it('ignores stopped unless stop ends the workload, then marks the session name reusable', () => {
    // Prepare
    const event = fixture('ec2-instance-state-change');
    event.detail.state = 'stopped';
    // Act
    const byDefault = classifyEvent(event);
    const configured = expectKind(classifyEvent(event, { stoppedEndsWorkload: true }), 'workload-ended');
    // Assess
    expectKind(byDefault, 'ignored');
    expect(configured.reason).toBe('ec2:stopped');
    expect(configured.workload.reusableSessionName).toBe(true);
  });

  it('ignores transitional states', () => {
    const event = fixture('ec2-instance-state-change');
    event.detail.state = 'pending';
    expectKind(classifyEvent(event), 'ignored');
  });

  it('builds the ARN when the emulator drops account and resources, using the context account', () => {
    // Prepare
    const { account: _a, resources: _r, ...event } = fixture('ec2-instance-state-change');
    // Act
    const withoutCtx = classifyEvent(event);
    const withCtx = expectKind(classifyEvent(event, { account: '123456789012' }), 'workload-ended');
    // Assess
    expect(expectKind(withoutCtx, 'rejected').reason).toMatch(/needs a 12-digit account/);
    expect(withCtx.workload.id).toBe(INSTANCE_ARN);
  });

  it('takes the ARN from resources when the account is missing', () => {
    const { account: _a, ...event } = fixture('ec2-instance-state-change');
    expect(expectKind(classifyEvent(event), 'workload-ended').workload.id).toBe(INSTANCE_ARN);
  });

  it('rejects an unknown state and a malformed instance id', () => {
    const badState = fixture('ec2-instance-state-change');
    badState.detail.state = 'exploded';
    const badId = fixture('ec2-instance-state-change');
    badId.detail['instance-id'] = 'i-*';
    expect(expectKind(classifyEvent(badState), 'rejected').reason).toMatch(
      /^invalid EC2 Instance State-change/,
    );
    expect(expectKind(classifyEvent(badId), 'rejected').reason).toMatch(/workload id "i-\*"/);
  });
});

describe('classifyEvent: Auto Scaling', () => {
  it('ends the instance named by EC2InstanceId', () => {
    const result = expectKind(classifyEvent(fixture('autoscaling-instance-terminate')), 'workload-ended');
    expect(result.workload.id).toBe('arn:aws:ec2:us-east-1:123456789012:instance/i-0f1e2d3c4b5a69788');
    expect(result.reason).toBe('autoscaling:terminate-successful');
  });
});

describe('classifyEvent: ECS task state change', () => {
  const taskArn = 'arn:aws:ecs:us-east-1:123456789012:task/payments/8f3c5d2e1a4b4c6d9e7f0a1b2c3d4e5f';

  it('ends the task on STOPPED with the stop code as reason', () => {
    const result = expectKind(classifyEvent(fixture('ecs-task-state-change')), 'workload-ended');
    expect(result.workload).toEqual({
      id: taskArn,
      kind: 'ecs',
      sessionName: '8f3c5d2e1a4b4c6d9e7f0a1b2c3d4e5f',
      reusableSessionName: false,
    });
    expect(result.reason).toBe('ecs:EssentialContainerExited');
  });

  it('carries the role the STOPPED event names, so a task on a deleted cluster can be resolved', () => {
    // Act
    const result = expectKind(classifyEvent(fixture('ecs-task-state-change')), 'workload-ended');

    // Assess
    expect(result.roleHint).toEqual({
      roleArn: 'arn:aws:iam::123456789012:role/payments/worker-task-role',
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/payments-worker:7',
    });
  });

  it('leaves the role hint of a STOPPED event without overrides or task definition out', () => {
    const event = fixture('ecs-task-state-change');
    delete event.detail.overrides;
    delete event.detail.taskDefinitionArn;
    const result = expectKind(classifyEvent(event), 'workload-ended');
    expect(result).not.toHaveProperty('roleHint');
  });

  it('starts the task on RUNNING with the override role and task definition as hints', () => {
    // Prepare
    const event = fixture('ecs-task-state-change');
    Object.assign(event.detail, { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    // Act
    const result = expectKind(classifyEvent(event), 'workload-started');
    // Assess
    expect(result.roleHint).toEqual({
      roleArn: 'arn:aws:iam::123456789012:role/payments/worker-task-role',
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/payments-worker:7',
    });
  });

  it('ignores RUNNING when the task is already desired STOPPED, and other statuses', () => {
    const stopping = fixture('ecs-task-state-change');
    Object.assign(stopping.detail, { lastStatus: 'RUNNING', desiredStatus: 'STOPPED' });
    const pending = fixture('ecs-task-state-change');
    Object.assign(pending.detail, { lastStatus: 'PENDING', desiredStatus: 'RUNNING' });
    expectKind(classifyEvent(stopping), 'ignored');
    expectKind(classifyEvent(pending), 'ignored');
  });

  it('accepts the old task ARN format', () => {
    const event = fixture('ecs-task-state-change');
    event.detail.taskArn = 'arn:aws:ecs:us-east-1:123456789012:task/4a5b6c7d-1111-2222-3333-444455556666';
    const result = expectKind(classifyEvent(event), 'workload-ended');
    expect(result.workload.sessionName).toBe('4a5b6c7d-1111-2222-3333-444455556666');
  });

  it('rejects a task ARN that is not an ECS task', () => {
    const event = fixture('ecs-task-state-change');
    event.detail.taskArn = 'arn:aws:lambda:us-east-1:123456789012:function:f';
    expect(expectKind(classifyEvent(event), 'rejected').reason).toMatch(/expected a ecs ARN/);
  });
});

describe('classifyEvent: Batch job state change', () => {
  const jobArn = 'arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8';

  it('ends the job with the ECS task id as session name', () => {
    const result = expectKind(classifyEvent(fixture('batch-job-state-change')), 'workload-ended');
    expect(result.workload).toEqual({
      id: jobArn,
      kind: 'batch',
      sessionName: '0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c',
      reusableSessionName: false,
    });
    expect(result.reason).toBe('batch:SUCCEEDED');
    expect(result.roleHint).toEqual({ roleArn: 'arn:aws:iam::123456789012:role/batch-report-job-role' });
  });

  it('ends a FAILED job without a task with an empty session name for the caller to resolve', () => {
    const event = fixture('batch-job-state-change');
    event.detail.status = 'FAILED';
    delete event.detail.container;
    const result = expectKind(classifyEvent(event), 'workload-ended');
    expect(result.workload.sessionName).toBe('');
    expect(result.reason).toBe('batch:FAILED');
  });

  it('starts a RUNNING job with the job role as hint', () => {
    const event = fixture('batch-job-state-change');
    event.detail.status = 'RUNNING';
    const result = expectKind(classifyEvent(event), 'workload-started');
    expect(result.workload.sessionName).toBe('0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c');
    expect(result.roleHint).toEqual({ roleArn: 'arn:aws:iam::123456789012:role/batch-report-job-role' });
  });

  it('ignores STARTING without a task and queue states', () => {
    const starting = fixture('batch-job-state-change');
    starting.detail.status = 'STARTING';
    delete starting.detail.container;
    const runnable = fixture('batch-job-state-change');
    runnable.detail.status = 'RUNNABLE';
    expectKind(classifyEvent(starting), 'ignored');
    expectKind(classifyEvent(runnable), 'ignored');
  });
});

describe('classifyEvent: Lambda via CloudTrail', () => {
  const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:thumbnail-resizer';

  it('ends the function on DeleteFunction20150331', () => {
    const result = expectKind(classifyEvent(fixture('lambda-cloudtrail-delete-function')), 'workload-ended');
    expect(result.workload).toEqual({
      id: fnArn,
      kind: 'lambda',
      sessionName: 'thumbnail-resizer',
      reusableSessionName: true,
    });
    expect(result.reason).toBe('lambda:DeleteFunction');
  });

  it.each(['thumbnail-resizer', '123456789012:function:thumbnail-resizer', fnArn])(
    'accepts functionName %s on a plain DeleteFunction',
    (functionName) => {
      const event = fixture('lambda-cloudtrail-delete-function');
      event.detail.eventName = 'DeleteFunction';
      event.detail.requestParameters = { functionName };
      expect(expectKind(classifyEvent(event), 'workload-ended').workload.id).toBe(fnArn);
    },
  );

  it('ignores a delete of one version or alias only', () => {
    const byArn = fixture('lambda-cloudtrail-delete-function');
    byArn.detail.requestParameters = { functionName: `${fnArn}:3` };
    const byParam = fixture('lambda-cloudtrail-delete-function');
    byParam.detail.requestParameters = { functionName: 'thumbnail-resizer', qualifier: 'prod' };
    expectKind(classifyEvent(byArn), 'ignored');
    expectKind(classifyEvent(byParam), 'ignored');
  });

  it('ignores failed calls and untracked event names', () => {
    const failed = fixture('lambda-cloudtrail-delete-function');
    failed.detail.errorCode = 'ResourceNotFoundException';
    const invoke = fixture('lambda-cloudtrail-delete-function');
    invoke.detail.eventName = 'UpdateFunctionCode20150331v2';
    expectKind(classifyEvent(failed), 'ignored');
    expectKind(classifyEvent(invoke), 'ignored');
  });

  it('starts the function on CreateFunction with the execution role as hint', () => {
    const result = expectKind(
      classifyEvent(fixture('lambda-cloudtrail-create-function')),
      'workload-started',
    );
    expect(result.workload.id).toBe(fnArn);
    expect(result.roleHint).toEqual({
      roleArn: 'arn:aws:iam::123456789012:role/service-role/thumbnail-resizer-role',
    });
  });

  it('starts the function on UpdateFunctionConfiguration20150331v2', () => {
    const event = fixture('lambda-cloudtrail-create-function');
    event.detail.eventName = 'UpdateFunctionConfiguration20150331v2';
    expectKind(classifyEvent(event), 'workload-started');
  });

  it('rejects a delete that names no function', () => {
    const event = fixture('lambda-cloudtrail-delete-function');
    event.detail.requestParameters = {};
    expect(expectKind(classifyEvent(event), 'rejected').reason).toMatch(/names no function/);
  });
});

describe('classifyEvent: CodeBuild', () => {
  it.each(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'])('ends the build on %s', (status) => {
    const event = fixture('codebuild-build-state-change');
    event.detail['build-status'] = status;
    const result = expectKind(classifyEvent(event), 'workload-ended');
    expect(result.workload.sessionName).toBe('AWSCodeBuild-0f5d2c3a-4b1e-4f6a-9d8c-7b6a5e4d3c2b');
    expect(result.reason).toBe(`codebuild:${status}`);
  });

  it('starts the build on IN_PROGRESS', () => {
    const event = fixture('codebuild-build-state-change');
    event.detail['build-status'] = 'IN_PROGRESS';
    expectKind(classifyEvent(event), 'workload-started');
  });
});

describe('classifyEvent: GuardDuty', () => {
  it('ends the instance as compromised on credential exfiltration', () => {
    const result = expectKind(
      classifyEvent(fixture('guardduty-instance-credential-exfiltration')),
      'workload-ended',
    );
    expect(result.workload.id).toBe(INSTANCE_ARN);
    expect(result.compromised).toBe(true);
    expect(result.reason).toBe('guardduty:InstanceCredentialExfiltration.OutsideAWS');
  });

  it('marks the session name reusable: the live instance keeps getting sessions under it', () => {
    // Act
    const result = expectKind(
      classifyEvent(fixture('guardduty-instance-credential-exfiltration')),
      'workload-ended',
    );

    // Assess: reusable names keep their exact bound, so refreshes after the finding are not denied.
    expect(result.workload).toEqual({
      id: INSTANCE_ARN,
      kind: 'ec2',
      sessionName: 'i-0abcd1234ef567890',
      reusableSessionName: true,
    });
    expect(result.endedAt).toBe('2024-05-14T17:00:00.000Z');
  });

  it('falls back to the AROA...:i-... principal when instance details are absent', () => {
    const event = fixture('guardduty-instance-credential-exfiltration');
    const resource = event.detail.resource as Record<string, unknown>;
    delete resource.instanceDetails;
    event.detail.type = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS';
    const result = expectKind(classifyEvent(event), 'workload-ended');
    expect(result.workload.id).toBe(INSTANCE_ARN);
    expect(result.reason).toBe('guardduty:InstanceCredentialExfiltration.InsideAWS');
  });

  it('ignores other finding types', () => {
    const event = fixture('guardduty-instance-credential-exfiltration');
    event.detail.type = 'Recon:EC2/PortProbeUnprotectedPort';
    expectKind(classifyEvent(event), 'ignored');
  });

  it('rejects an exfiltration finding that names no instance', () => {
    const event = fixture('guardduty-instance-credential-exfiltration');
    event.detail.resource = { resourceType: 'AccessKey', accessKeyDetails: { principalId: 'AIDAEXAMPLE' } };
    expectKind(classifyEvent(event), 'rejected');
  });
});

describe('classifyEvent: sundown Workload Ended', () => {
  it('ends a custom workload with the given reason and flags', () => {
    // Prepare
    const event = fixture('sundown-workload-ended');
    Object.assign(event.detail, { compromised: true, dryRun: true });
    // Act
    const result = expectKind(classifyEvent(event), 'workload-ended');
    // Assess
    expect(result.workload.kind).toBe('custom');
    expect(result.workload.id).toBe('ci/pipeline-42/job-7');
    expect(result.workload.sessionName).toMatch(SESSION_NAME_PATTERN);
    expect(result).toMatchObject({ reason: 'pipeline finished', compromised: true, dryRun: true });
  });

  it('normalizes a bare instance id and ARNs, and trims the reason to 256 characters', () => {
    const bare = fixture('sundown-workload-ended');
    bare.detail = { workloadId: 'i-0abcd1234ef567890', reason: `  ${'r'.repeat(300)}\n` };
    const result = expectKind(classifyEvent(bare), 'workload-ended');
    expect(result.workload.id).toBe(INSTANCE_ARN);
    expect(result.reason).toBe('r'.repeat(256));
  });

  it.each(['job*', 'a"b', "it's", '', 'x'.repeat(257)])('rejects the workload id %j', (workloadId) => {
    const event = fixture('sundown-workload-ended');
    event.detail = { workloadId };
    expectKind(classifyEvent(event), 'rejected');
  });

  it('rejects an ARN from another account', () => {
    const event = fixture('sundown-workload-ended');
    event.detail = { workloadId: 'arn:aws:ec2:us-east-1:210987654321:instance/i-0abcd1234ef567890' };
    expect(expectKind(classifyEvent(event), 'rejected').reason).toMatch(/belongs to account 210987654321/);
  });

  it('rejects unknown detail members and unknown sundown detail types', () => {
    const extra = fixture('sundown-workload-ended');
    extra.detail.force = true;
    const unknownType = { ...fixture('sundown-workload-ended'), 'detail-type': 'Workload Paused' };
    expectKind(classifyEvent(extra), 'rejected');
    expectKind(classifyEvent(unknownType), 'rejected');
  });
});

describe('classifyEvent: sundown Credential Issued', () => {
  it('returns the registration with a normalized workload id', () => {
    // Prepare
    const event = fixture('sundown-credential-issued');
    event.detail.workloadId = 'arn:aws:lambda:us-east-1:123456789012:function:resize:prod';
    // Act
    const result = expectKind(classifyEvent(event), 'credential-issued');
    // Assess
    expect(result.registration).toMatchObject({
      kind: 'role-session',
      roleArn: 'arn:aws:iam::123456789012:role/ci/deploy-role',
      workloadId: 'arn:aws:lambda:us-east-1:123456789012:function:resize',
    });
  });

  it.each(['secretAccessKey', 'SessionToken', 'privateKey'])('rejects a detail carrying %s', (key) => {
    // Prepare
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const event = fixture('sundown-credential-issued');
    event.detail[key] = secret;
    // Act
    const result = expectKind(classifyEvent(event), 'rejected');
    // Assess
    expect(result.reason).toContain(key);
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('rejects an invalid registration', () => {
    const event = fixture('sundown-credential-issued');
    event.detail.roleArn = 'arn:aws:iam::123456789012:role/*';
    expect(expectKind(classifyEvent(event), 'rejected').reason).toMatch(/roleArn/);
  });
});

describe('classifyEvent: untrusted input', () => {
  it.each([null, undefined, 42, 'event', [], [fixture('ec2-instance-state-change')]])(
    'rejects the non-object %j',
    (event) => {
      expectKind(classifyEvent(event), 'rejected');
    },
  );

  it('rejects a missing detail and a bad time, keeping what it can in the trigger', () => {
    const { detail: _d, ...noDetail } = fixture('ec2-instance-state-change');
    const badTime = { ...fixture('ec2-instance-state-change'), time: 'later' };
    expectKind(classifyEvent(noDetail), 'rejected');
    const result = expectKind(classifyEvent(badTime, { busName: 'sundown-bus' }), 'rejected');
    expect(result.reason).toMatch(/^invalid event envelope: time/);
    expect(result.trigger).toMatchObject({
      eventId: '7bf73129-1428-4cd3-a780-95db273d1602',
      busName: 'sundown-bus',
    });
  });

  it('ignores events of other sources', () => {
    const event = {
      ...fixture('ec2-instance-state-change'),
      source: 'aws.s3',
      'detail-type': 'Object Created',
    };
    expectKind(classifyEvent(event), 'ignored');
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (event) => {
        expect(['rejected', 'ignored']).toContain(classifyEvent(event).kind);
      }),
    );
    const base = fixture('ec2-instance-state-change');
    fc.assert(
      fc.property(
        fc.anything(),
        fc.constantFrom('detail', 'time', 'resources', 'account', 'region'),
        (v, key) => {
          expect(() => classifyEvent({ ...base, [key]: v })).not.toThrow();
        },
      ),
    );
  });
});
