/**
 * Does a workload still exist, and is it still running? Asked by the reconciliation sweep of every
 * workload that holds an active credential, through each platform's own API, in batches:
 *
 * | kind      | API                                  | ended                        | gone (not found)              |
 * | --------- | ------------------------------------ | ---------------------------- | ----------------------------- |
 * | ec2       | DescribeInstances (100 per call)     | shutting-down, terminated    | InvalidInstanceID.NotFound    |
 * | ecs       | DescribeTasks (100 per cluster)      | lastStatus STOPPED, DELETED  | failure reason MISSING        |
 * | lambda    | GetFunctionConcurrency (per function)| -                            | ResourceNotFoundException     |
 * | batch     | DescribeJobs (100 per call)          | SUCCEEDED, FAILED            | job absent from the answer    |
 * | codebuild | BatchGetBuilds (100 per call)        | buildComplete                | listed in buildsNotFound      |
 *
 * Anything else is `unknown`: an API error (throttling, access denied, an answer the SDK cannot
 * read), a workload in another account or region, an old-format ECS task ARN (its cluster is not
 * known), a custom workload (no platform API). The sweep never revokes on `unknown`.
 *
 * Lambda: GetFunctionConcurrency, not GetFunction, because existence is all the sweep needs and
 * GetFunction would also hand the sweeper a download URL for every function's code and its
 * environment variables.
 */
import type { BatchClient } from '@aws-sdk/client-batch';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { EC2Client, Instance } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { type ClientSource, clientOf, once } from '../shared/clients.ts';
import type { Workload } from '../shared/domain/workload-id.ts';

import {
  arnParts,
  chunks,
  errorName,
  instanceLiveness,
  isoFromEpoch,
  type Liveness,
  unknownFrom,
} from './liveness-answers.ts';

export { instanceLiveness, type Liveness, transitionTime } from './liveness-answers.ts';

export interface WorkloadLiveness {
  /** One answer per workload ID given (workloads of every kind may be mixed). */
  check(workloads: readonly Workload[]): Promise<Map<string, Liveness>>;
}

/** Each platform's client, or how to make it on first use (a sweep then loads only the SDKs it needs). */
export interface LivenessClients {
  ec2: ClientSource<EC2Client>;
  ecs: ClientSource<ECSClient>;
  lambda: ClientSource<LambdaClient>;
  batch: ClientSource<BatchClient>;
  codebuild: ClientSource<CodeBuildClient>;
}

/**
 * The platforms' SDK packages, imported on first use: a sweep of EC2 workloads never loads the ECS,
 * Lambda, Batch or CodeBuild SDKs (their import is most of a sweeper's cold start). A failed import
 * is an error of the call, so its workloads are `unknown`, never revoked.
 */
const sdk = {
  ec2: once(() => import('@aws-sdk/client-ec2')),
  ecs: once(() => import('@aws-sdk/client-ecs')),
  lambda: once(() => import('@aws-sdk/client-lambda')),
  batch: once(() => import('@aws-sdk/client-batch')),
  codebuild: once(() => import('@aws-sdk/client-codebuild')),
};

export class AwsWorkloadLiveness implements WorkloadLiveness {
  constructor(
    private readonly clients: LivenessClients,
    private readonly where: { account: string; region: string; stoppedEndsWorkload: boolean },
  ) {}

  async check(workloads: readonly Workload[]): Promise<Map<string, Liveness>> {
    const answers = new Map<string, Liveness>();
    const byKind = new Map<Workload['kind'], Workload[]>();
    for (const w of workloads) {
      if (answers.has(w.id)) continue;
      if (w.kind === 'custom') {
        answers.set(w.id, {
          state: 'unknown',
          detail: 'custom workloads have no platform API: they end by event, CLI or expiry',
        });
        continue;
      }
      const arn = arnParts(w.id);
      if (!arn || arn.account !== this.where.account || arn.region !== this.where.region) {
        answers.set(w.id, {
          state: 'unknown',
          detail: `workload is outside this deployment's account ${this.where.account} and region ${this.where.region}`,
        });
        continue;
      }
      byKind.set(w.kind, [...(byKind.get(w.kind) ?? []), w]);
    }
    const checks: Record<Exclude<Workload['kind'], 'custom'>, (ws: Workload[]) => Promise<void>> = {
      ec2: (ws) => this.instances(ws, answers),
      ecs: (ws) => this.tasks(ws, answers),
      lambda: (ws) => this.functions(ws, answers),
      batch: (ws) => this.jobs(ws, answers),
      codebuild: (ws) => this.builds(ws, answers),
    };
    for (const [kind, ws] of byKind) await checks[kind as Exclude<Workload['kind'], 'custom'>](ws);
    for (const w of workloads) {
      if (!answers.has(w.id)) answers.set(w.id, { state: 'unknown', detail: 'no answer for this workload' });
    }
    return answers;
  }

  private async instances(workloads: Workload[], answers: Map<string, Liveness>): Promise<void> {
    const idOf = (w: Workload) => w.id.split('/').pop() ?? '';
    const describe = async (group: Workload[]) => {
      const { DescribeInstancesCommand } = await sdk.ec2();
      const ec2 = await clientOf(this.clients.ec2);
      const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: group.map(idOf) }));
      const found = new Map<string, Instance>();
      for (const r of res.Reservations ?? []) {
        for (const i of r.Instances ?? []) if (i.InstanceId) found.set(i.InstanceId, i);
      }
      for (const w of group) {
        const instance = found.get(idOf(w));
        answers.set(
          w.id,
          instance
            ? instanceLiveness(instance, this.where.stoppedEndsWorkload)
            : { state: 'unknown', detail: 'instance missing from DescribeInstances without an error' },
        );
      }
    };
    for (const group of chunks(workloads)) {
      try {
        await describe(group);
      } catch (err) {
        if (errorName(err) !== 'InvalidInstanceID.NotFound') {
          for (const w of group) answers.set(w.id, unknownFrom(err, 'DescribeInstances'));
          continue;
        }
        // One unknown ID fails the whole call: ask one by one to know which.
        for (const w of group) {
          try {
            await describe([w]);
          } catch (one) {
            answers.set(
              w.id,
              errorName(one) === 'InvalidInstanceID.NotFound'
                ? { state: 'gone', detail: 'EC2 no longer knows the instance (InvalidInstanceID.NotFound)' }
                : unknownFrom(one, 'DescribeInstances'),
            );
          }
        }
      }
    }
  }

  private async tasks(workloads: Workload[], answers: Map<string, Liveness>): Promise<void> {
    const byCluster = new Map<string, Workload[]>();
    for (const w of workloads) {
      const parts = (arnParts(w.id)?.resource ?? '').split('/');
      if (parts.length !== 3) {
        answers.set(w.id, {
          state: 'unknown',
          detail: 'old-format task ARN: its cluster is not known, so a missing task proves nothing',
        });
        continue;
      }
      const cluster = parts[1] as string;
      byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), w]);
    }
    for (const [cluster, ws] of byCluster) {
      for (const group of chunks(ws)) {
        try {
          const { DescribeTasksCommand } = await sdk.ecs();
          const ecs = await clientOf(this.clients.ecs);
          const res = await ecs.send(new DescribeTasksCommand({ cluster, tasks: group.map((w) => w.id) }));
          const tasks = new Map((res.tasks ?? []).map((t) => [t.taskArn ?? '', t]));
          const missing = new Set(
            (res.failures ?? []).filter((f) => f.reason === 'MISSING').map((f) => f.arn ?? ''),
          );
          for (const w of group) {
            const task = tasks.get(w.id);
            if (task) {
              const status = task.lastStatus ?? 'UNKNOWN';
              const endedAt = isoFromEpoch(task.stoppedAt ?? task.executionStoppedAt);
              answers.set(
                w.id,
                status === 'STOPPED' || status === 'DELETED'
                  ? { state: 'ended', ...(endedAt ? { endedAt } : {}), detail: `task is ${status}` }
                  : { state: 'live', detail: `task is ${status}` },
              );
            } else if (missing.has(w.id)) {
              answers.set(w.id, { state: 'gone', detail: 'ECS reports the task MISSING' });
            } else {
              answers.set(w.id, {
                state: 'unknown',
                detail: 'task missing from DescribeTasks without a failure',
              });
            }
          }
        } catch (err) {
          const gone = errorName(err) === 'ClusterNotFoundException';
          for (const w of group) {
            answers.set(
              w.id,
              gone
                ? { state: 'gone', detail: `cluster ${cluster} no longer exists` }
                : unknownFrom(err, 'DescribeTasks'),
            );
          }
        }
      }
    }
  }

  private async functions(workloads: Workload[], answers: Map<string, Liveness>): Promise<void> {
    for (const w of workloads) {
      try {
        const { GetFunctionConcurrencyCommand } = await sdk.lambda();
        const lambda = await clientOf(this.clients.lambda);
        await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: w.id }));
        answers.set(w.id, { state: 'live', detail: 'function exists' });
      } catch (err) {
        answers.set(
          w.id,
          errorName(err) === 'ResourceNotFoundException'
            ? { state: 'gone', detail: 'Lambda no longer knows the function (ResourceNotFoundException)' }
            : unknownFrom(err, 'GetFunctionConcurrency'),
        );
      }
    }
  }

  private async jobs(workloads: Workload[], answers: Map<string, Liveness>): Promise<void> {
    const idOf = (w: Workload) => (arnParts(w.id)?.resource ?? '').replace(/^job\//, '');
    for (const group of chunks(workloads)) {
      try {
        const { DescribeJobsCommand } = await sdk.batch();
        const batch = await clientOf(this.clients.batch);
        const res = await batch.send(new DescribeJobsCommand({ jobs: group.map(idOf) }));
        const jobs = new Map((res.jobs ?? []).map((j) => [j.jobId ?? '', j]));
        for (const w of group) {
          const job = jobs.get(idOf(w));
          if (!job) {
            answers.set(w.id, { state: 'gone', detail: 'Batch no longer knows the job' });
            continue;
          }
          const endedAt = isoFromEpoch(job.stoppedAt);
          answers.set(
            w.id,
            job.status === 'SUCCEEDED' || job.status === 'FAILED'
              ? { state: 'ended', ...(endedAt ? { endedAt } : {}), detail: `job ${job.status}` }
              : { state: 'live', detail: `job ${job.status ?? 'in an unreported state'}` },
          );
        }
      } catch (err) {
        for (const w of group) answers.set(w.id, unknownFrom(err, 'DescribeJobs'));
      }
    }
  }

  private async builds(workloads: Workload[], answers: Map<string, Liveness>): Promise<void> {
    const idOf = (w: Workload) => (arnParts(w.id)?.resource ?? '').replace(/^build\//, '');
    for (const group of chunks(workloads)) {
      try {
        const { BatchGetBuildsCommand } = await sdk.codebuild();
        const codebuild = await clientOf(this.clients.codebuild);
        const res = await codebuild.send(new BatchGetBuildsCommand({ ids: group.map(idOf) }));
        const builds = new Map((res.builds ?? []).map((b) => [b.id ?? '', b]));
        const notFound = new Set(res.buildsNotFound ?? []);
        for (const w of group) {
          const build = builds.get(idOf(w));
          if (build) {
            const endedAt = isoFromEpoch(build.endTime);
            answers.set(
              w.id,
              build.buildComplete
                ? { state: 'ended', ...(endedAt ? { endedAt } : {}), detail: `build ${build.buildStatus}` }
                : { state: 'live', detail: `build ${build.buildStatus ?? 'IN_PROGRESS'}` },
            );
          } else if (notFound.has(idOf(w))) {
            answers.set(w.id, { state: 'gone', detail: 'CodeBuild no longer knows the build' });
          } else {
            answers.set(w.id, { state: 'unknown', detail: 'build missing from BatchGetBuilds' });
          }
        }
      } catch (err) {
        for (const w of group) answers.set(w.id, unknownFrom(err, 'BatchGetBuilds'));
      }
    }
  }
}
