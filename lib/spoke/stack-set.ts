import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import { Construct } from 'constructs';
import { parseStackSetSettings, type SpokePart } from './config.ts';
import { type SundownSpokeProps, SundownSpokeStack } from './spoke.ts';

/** CloudFormation's cap on an inline template body (TemplateBody), in bytes. */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;

export interface SundownSpokeStackSetProps {
  /** The spokes' settings (`part` is chosen per StackSet). */
  readonly spoke: Omit<SundownSpokeProps, 'part'>;
  /** Organizational units (or the root, `r-...`) whose accounts get the spoke, and accounts that join them later. */
  readonly organizationalUnitIds: readonly string[];
  /** Regions of the forwarding rules; include us-east-1 (IAM and global STS events are recorded there). */
  readonly regions: readonly string[];
  /**
   * The one region per account the spoke roles are created in (IAM is global: named roles in several
   * regions would collide).
   * @default the first of `regions`
   */
  readonly rolesRegion?: string;
  /**
   * `SELF` from the organization's management account, `DELEGATED_ADMIN` from a delegated
   * administrator for StackSets.
   * @default 'SELF'
   */
  readonly callAs?: 'SELF' | 'DELEGATED_ADMIN';
  /**
   * Prefix of the StackSet names: `<name>-roles` and `<name>-forwarding`.
   * @default 'SundownSpoke'
   */
  readonly stackSetName?: string;
}

/**
 * Spokes for every account of some OUs, as two service-managed StackSets with automatic deployment
 * (accounts that join an OU get the spoke, accounts that leave lose it): `<name>-roles` in one
 * region, `<name>-forwarding` in every listed region. Each template is a `SundownSpokeStack`
 * synthesized in an app of its own (asset-free, so a StackSet can carry it), inline, and refused
 * when over CloudFormation's 51,200-byte TemplateBody cap. StackSets never deploy to the
 * organization's management account: deploy a spoke there with `cdk deploy` if it runs workloads.
 */
export class SundownSpokeStackSet extends Construct {
  readonly roles: cloudformation.CfnStackSet;
  readonly forwarding: cloudformation.CfnStackSet;

  constructor(scope: Construct, id: string, props: SundownSpokeStackSetProps) {
    super(scope, id);
    const settings = parseStackSetSettings({
      organizationalUnitIds: props.organizationalUnitIds,
      regions: props.regions,
      rolesRegion: props.rolesRegion,
      callAs: props.callAs,
      stackSetName: props.stackSetName,
    });
    const stackSet = (part: Exclude<SpokePart, 'all'>, regions: readonly string[]) =>
      new cloudformation.CfnStackSet(this, part === 'roles' ? 'Roles' : 'Forwarding', {
        stackSetName: `${settings.stackSetName}-${part}`,
        description: `Sundown spoke (${part}): ${part === 'roles' ? 'roles the hub assumes' : 'forwards workload events to the hub'}`,
        permissionModel: 'SERVICE_MANAGED',
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        callAs: settings.callAs,
        capabilities: ['CAPABILITY_NAMED_IAM'],
        stackInstancesGroup: [
          {
            deploymentTargets: { organizationalUnitIds: [...settings.organizationalUnitIds] },
            regions: [...regions],
          },
        ],
        templateBody: spokeTemplateBody({ ...props.spoke, part }),
      });
    this.roles = stackSet('roles', [settings.rolesRegion ?? (settings.regions[0] as string)]);
    this.forwarding = stackSet('forwarding', settings.regions);
  }
}

/**
 * The template of a `SundownSpokeStack` with these props, synthesized in an app of its own (into a
 * temporary directory, whatever the CLI's output directory), without path metadata: compact JSON.
 */
export function spokeTemplateBody(props: SundownSpokeProps, maxBytes = MAX_TEMPLATE_BODY_BYTES): string {
  const outdir = mkdtempSync(path.join(tmpdir(), 'sundown-spoke-'));
  try {
    const app = new App({
      outdir,
      analyticsReporting: false,
      builtinCloudFormationValidation: false,
      treeMetadata: false,
      postCliContext: { 'aws:cdk:enable-path-metadata': false },
    });
    const stack = new SundownSpokeStack(app, 'SundownSpoke', props);
    const body = JSON.stringify(app.synth().getStackByName(stack.stackName).template);
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > maxBytes) {
      throw new Error(
        `the spoke template (${props.part ?? 'all'}) is ${bytes} bytes, over CloudFormation's ${maxBytes}-byte TemplateBody limit for a StackSet`,
      );
    }
    return body;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
