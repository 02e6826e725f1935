import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { suppressPreflight } from '../preflight/aspect.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
/**
 * Built and packaged (this file is dist/lib/constructs/sundown-function.js), the functions are
 * prebundled in dist/assets/<handler dir>/ by `npm run build` and shipped with the package, so a
 * consumer's synth needs no esbuild. In the dev tree (this file is .ts) they are bundled at synth.
 */
const PACKAGED = import.meta.url.endsWith('.js');
export const PREBUNDLED_DIR = path.join(ROOT, 'assets');

export interface SundownFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts`. */
  readonly handlerDir: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * A fixed name and path for the execution role (a hub's functions: spoke roles name them in their
   * trust policies). The role keeps its construct and logical ID either way.
   * @default a name CloudFormation generates, at path /
   */
  readonly roleName?: FixedRoleName;
}

/** A role's fixed name and IAM path. */
export interface FixedRoleName {
  readonly name: string;
  readonly path: string;
}

/** Why Sundown's own functions' roles carry no opt-in tag (preflight reports it, with this reason). */
export const OWN_FUNCTION_REASON =
  "Sundown's own function: a long-lived service, not an ephemeral workload. Its role must never carry the opt-in " +
  'tag: Sundown would then be allowed to revoke its own sessions.';

/**
 * Sundown's Lambda defaults in one place: Node.js 22 on ARM64, bundled by the
 * locally installed esbuild (no Docker; prebundled in the package), ESM output with source maps, an
 * explicit log group with retention (no log-retention custom resource, which
 * the local emulator cannot run), and X-Ray tracing.
 */
export class SundownFunction extends Construct {
  readonly fn: lambda.Function;
  /** `lambdas/<handlerDir>/handler.ts` is the function's entry point. */
  readonly handlerDir: string;

  constructor(scope: Construct, id: string, props: SundownFunctionProps) {
    super(scope, id);
    this.handlerDir = props.handlerDir;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const common = {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'sundown',
        POWERTOOLS_METRICS_NAMESPACE: 'Sundown',
        ...props.environment,
      },
    };
    this.fn = PACKAGED
      ? new lambda.Function(this, 'Function', {
          ...common,
          code: lambda.Code.fromAsset(prebundled(props.handlerDir)),
          handler: 'index.handler',
        })
      : new nodejs.NodejsFunction(this, 'Function', {
          ...common,
          entry: path.join(ROOT, 'lambdas', props.handlerDir, 'handler.ts'),
          handler: 'handler',
          projectRoot: ROOT,
          depsLockFilePath: path.join(ROOT, 'package-lock.json'),
          bundling: {
            forceDockerBundling: false,
            minify: true,
            sourceMap: true,
            sourcesContent: false,
            target: 'node22',
            format: nodejs.OutputFormat.ESM,
            mainFields: ['module', 'main'],
            banner:
              "import { createRequire as __sdCreateRequire } from 'node:module';const require = __sdCreateRequire(import.meta.url);",
          },
        });
    if (props.roleName) {
      const role = this.role.node.defaultChild as iam.CfnRole;
      role.roleName = props.roleName.name;
      role.path = props.roleName.path;
    }
    // `sundown preflight` over Sundown's own stack (CI dogfoods it) reports Lambda roles without the opt-in tag.
    suppressPreflight(this.role, [{ id: 'workload-role-not-opted-in', reason: OWN_FUNCTION_REASON }]);
  }

  /** The function's execution role (always present: Sundown never passes one in). */
  get role(): iam.IRole {
    if (!this.fn.role) throw new Error(`function ${this.node.path} has no execution role`);
    return this.fn.role;
  }

  /**
   * Consumes `queue` with partial batch responses, so one bad message never
   * makes a whole batch retry.
   */
  consume(queue: sqs.IQueue, options: { batchSize: number; maxBatchingWindow?: Duration }): void {
    this.fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: options.batchSize,
        reportBatchItemFailures: true,
        ...(options.maxBatchingWindow ? { maxBatchingWindow: options.maxBatchingWindow } : {}),
      }),
    );
  }
}

/** The prebundled function in the package; its absence means the package was built without `npm run build`. */
function prebundled(handlerDir: string): string {
  const dir = path.join(PREBUNDLED_DIR, handlerDir);
  if (!existsSync(path.join(dir, 'index.mjs'))) {
    throw new Error(
      `the prebundled function ${dir}/index.mjs is missing: build the package with npm run build before packing it`,
    );
  }
  return dir;
}
