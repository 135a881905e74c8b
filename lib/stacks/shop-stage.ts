import type { StageProps } from 'aws-cdk-lib';
import { Stage } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import type { ShopSystem } from './shop-system';
import { createShopSystem } from './shop-system';

/** Props of {@link ShopStage}. */
export interface ShopStageProps extends StageProps {
  /** The environment the stage deploys. */
  readonly config: EnvironmentConfig;
}

/**
 * One environment of the reference system as a deployable unit (a CDK `Stage`), as the pipeline deploys it:
 * the same stacks, stack names and logical IDs as `cdk deploy -c env=<name> --all`.
 */
export class ShopStage extends Stage {
  /** The stacks of the environment. */
  public readonly system: ShopSystem;

  constructor(scope: Construct, id: string, props: ShopStageProps) {
    super(scope, id, props);
    this.system = createShopSystem(this, props.config);
  }
}
