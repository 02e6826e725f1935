/**
 * AWS SDK clients, each created once per process and only when first used.
 * No endpoint is set here: the SDK reads the standard configuration
 * (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same code
 * runs against AWS, moto or LocalStack. The standard retry mode retries
 * throttling with exponential backoff and jitter.
 */
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const RETRY = { maxAttempts: 8, retryMode: 'standard' } as const;

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

export const clients = {
  dynamo: lazy(() =>
    DynamoDBDocumentClient.from(new DynamoDBClient(RETRY), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  ),
  iam: lazy(() => new IAMClient(RETRY)),
  sts: lazy(() => new STSClient(RETRY)),
  // The configured endpoint, not the queue URL's host, decides where calls go
  // (identical on AWS; required for emulators, whose queue URLs name AWS hosts).
  sqs: lazy(() => new SQSClient({ ...RETRY, useQueueUrlAsEndpoint: false })),
  events: lazy(() => new EventBridgeClient(RETRY)),
  acmPca: lazy(() => new ACMPCAClient(RETRY)),
  ec2: lazy(() => new EC2Client(RETRY)),
  ecs: lazy(() => new ECSClient(RETRY)),
  codebuild: lazy(() => new CodeBuildClient(RETRY)),
};
export type Clients = typeof clients;
