/**
 * Where seals live and how they are signed: DynamoDB (the audit table, partition `seal#<chain>`,
 * sort key = epoch, written only if the epoch is new), KMS (asymmetric P-256 key, Sign with
 * ECDSA_SHA_256 over a RAW message) and, optionally, an S3 bucket with Object Lock in COMPLIANCE
 * mode (each seal as `seals/<chain>/<epoch>.json`, locked by the bucket's default retention).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type ClientSource, clientOf, once } from '../shared/clients.ts';
import type { AuditLog } from './audit-log.ts';
import { SEAL_SIGNING_ALGORITHM, type StoredSeal, sealChainId } from './audit-seal.ts';
import type { SealArchive, SealChainSource, SealSigner, SealStore } from './audit-sealing.ts';

const kmsSdk = once(() => import('@aws-sdk/client-kms'));
const s3Sdk = once(() => import('@aws-sdk/client-s3'));

/** A stored seal item as read, unvalidated: verification must see what is there. */
export function sealFromItem(item: Record<string, unknown>): StoredSeal {
  return {
    epoch: Number(item.seq),
    body: String(item.body ?? ''),
    digest: String(item.digest ?? ''),
    signature: String(item.signature ?? ''),
    keyId: String(item.keyId ?? ''),
  };
}

export class DynamoSealStore implements SealStore {
  readonly chainId: string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    base: string,
  ) {
    this.chainId = sealChainId(base);
  }

  async lastSeal(): Promise<StoredSeal | null> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'chainId = :c',
        ExpressionAttributeValues: { ':c': this.chainId },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = res.Items?.[0];
    return item ? sealFromItem(item) : null;
  }

  /** Every seal, oldest first. */
  async allSeals(): Promise<StoredSeal[]> {
    const out: StoredSeal[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'chainId = :c',
          ExpressionAttributeValues: { ':c': this.chainId },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(res.Items ?? []).map(sealFromItem));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async putSeal(seal: StoredSeal): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            chainId: this.chainId,
            seq: seal.epoch,
            body: seal.body,
            digest: seal.digest,
            signature: seal.signature,
            keyId: seal.keyId,
          },
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

export class KmsSealSigner implements SealSigner {
  constructor(
    private readonly kms: ClientSource<KMSClient>,
    readonly keyId: string,
  ) {}

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const [client, { SignCommand }] = await Promise.all([clientOf(this.kms), kmsSdk()]);
    const res = await client.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: SEAL_SIGNING_ALGORITHM,
      }),
    );
    if (!res.Signature) throw new Error(`KMS returned no signature for key ${this.keyId}`);
    return res.Signature;
  }
}

/** The public key of the seal key (DER SPKI), for offline verification. */
export async function fetchSealPublicKey(kms: ClientSource<KMSClient>, keyId: string): Promise<Uint8Array> {
  const [client, { GetPublicKeyCommand }] = await Promise.all([clientOf(kms), kmsSdk()]);
  const res = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!res.PublicKey) throw new Error(`KMS returned no public key for ${keyId}`);
  return res.PublicKey;
}

export class S3SealArchive implements SealArchive {
  constructor(
    private readonly s3: ClientSource<S3Client>,
    private readonly bucket: string,
    private readonly base: string,
  ) {}

  async put(seal: StoredSeal): Promise<void> {
    const [client, { PutObjectCommand }] = await Promise.all([clientOf(this.s3), s3Sdk()]);
    await client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `seals/${this.base}/${String(seal.epoch).padStart(12, '0')}.json`,
        Body: JSON.stringify(seal),
        ContentType: 'application/json',
        // Object Lock uploads need an integrity checksum.
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }
}

/** The chains of an AuditLog (legacy chain and shards) as the sealer reads them. */
export function chainSourceOf(log: AuditLog): SealChainSource {
  return {
    chainIds: () => log.chainIds(),
    head: (chainId) => log.head(chainId),
    records: (chainId, fromSeq) => log.forChain(chainId).scanChain(fromSeq, { validate: false }),
  };
}
