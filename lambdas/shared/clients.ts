/**
 * AWS SDK clients, each created once per process and only when first used.
 * No endpoint is set here: the SDK reads the standard configuration
 * (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same code
 * runs against AWS, moto or LocalStack. The standard retry mode retries
 * throttling with exponential backoff and jitter.
 */
import type { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const RETRY = { maxAttempts: 8, retryMode: 'standard' } as const;

/** A client, or how to get one on first use (the SDK package is then imported only when needed). */
export type ClientSource<T> = T | (() => Promise<T>);

export async function clientOf<T extends object>(source: ClientSource<T>): Promise<T> {
  return typeof source === 'function' ? (source as () => Promise<T>)() : source;
}

/** Runs `load` once, on first call; later calls share its promise. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= load().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/** Settings for the clients of one account: none at home; a spoke's credentials in a hub (adapters/accounts.ts). */
export interface ClientConfig {
  credentials?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
  }>;
}

/**
 * The SDK packages of services only some paths use (discovery at an end, certificates, the broker),
 * imported on first use, so a function's cold start loads only the clients it needs at once
 * (DynamoDB, SQS, EventBridge, IAM). Each returns one shared client per `config`.
 */
export function makeLazyClients(config: ClientConfig = {}) {
  const settings = { ...RETRY, ...config };
  return {
    ec2: once(async () => new (await import('@aws-sdk/client-ec2')).EC2Client(settings)),
    ecs: once(async () => new (await import('@aws-sdk/client-ecs')).ECSClient(settings)),
    codebuild: once(async () => new (await import('@aws-sdk/client-codebuild')).CodeBuildClient(settings)),
    acmPca: once(async () => new (await import('@aws-sdk/client-acm-pca')).ACMPCAClient(settings)),
    sts: once(async () => new (await import('@aws-sdk/client-sts')).STSClient(settings)),
    events: once(async () => new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient(settings)),
    sns: once(async () => new (await import('@aws-sdk/client-sns')).SNSClient(settings)),
    kms: once(async () => new (await import('@aws-sdk/client-kms')).KMSClient(settings)),
    s3: once(async () => new (await import('@aws-sdk/client-s3')).S3Client(settings)),
  } satisfies Record<
    string,
    () => Promise<
      | EC2Client
      | ECSClient
      | CodeBuildClient
      | ACMPCAClient
      | STSClient
      | EventBridgeClient
      | SNSClient
      | KMSClient
      | S3Client
    >
  >;
}
export const lazyClients = makeLazyClients();

/** An IAM client for `config` (a spoke's, in a hub); the home account's is `clients.iam()`. */
export function iamClient(config: ClientConfig = {}): IAMClient {
  return new IAMClient({ ...RETRY, ...config });
}

export const clients = {
  dynamo: lazy(() =>
    DynamoDBDocumentClient.from(new DynamoDBClient(RETRY), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  ),
  iam: lazy(() => new IAMClient(RETRY)),
  // The configured endpoint, not the queue URL's host, decides where calls go
  // (identical on AWS; required for emulators, whose queue URLs name AWS hosts).
  sqs: lazy(() => new SQSClient({ ...RETRY, useQueueUrlAsEndpoint: false })),
};
export type Clients = typeof clients;
