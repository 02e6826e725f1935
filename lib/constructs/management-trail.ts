import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * A CloudTrail trail logging this region's write management events, so that EventBridge sees the
 * "AWS API Call via CloudTrail" events Sundown's Lambda triggers match (DeleteFunction,
 * CreateFunction, UpdateFunctionConfiguration): without a trail, EventBridge gets none of them.
 *
 * Single-region and write-only on purpose: the rules match write calls in the stack's region, and
 * the first trail of an account logs management events free of charge. Log files go to an
 * encrypted, TLS-only, private bucket that outlives the stack; log file validation is on.
 */
export class ManagementEventsTrail extends Construct {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      bucket: this.bucket,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      managementEvents: cloudtrail.ReadWriteType.WRITE_ONLY,
      enableFileValidation: true,
      sendToCloudWatchLogs: false,
    });
  }
}
