import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { Construct } from 'constructs';
import { OutboxAttribute } from '../../functions/shared/events/outbox-format';
import { DataProtection, removalPolicyFor } from './data-protection';
import { mergeOverrides, requireNoConflict } from './overrides';
import type { MicroserviceProps } from './microservice-props';
import { AccessMode } from './route';
import { ServiceFunction } from './service-function';
import { fail, nagResourceName, requireIntegerInRange } from './validation';

/** Throughput of a microservice's on-demand table. */
export interface TableThroughput {
  /**
   * Read units per second the table serves at once, without ramping up (DynamoDB warm throughput).
   * @default - what DynamoDB has provisioned for the table so far
   */
  readonly warmReadUnitsPerSecond?: number;
  /**
   * Write units per second the table serves at once, without ramping up (DynamoDB warm throughput).
   * @default - what DynamoDB has provisioned for the table so far
   */
  readonly warmWriteUnitsPerSecond?: number;
  /**
   * Most read request units per second the table may consume.
   * @default - no ceiling
   */
  readonly maxReadRequestUnits?: number;
  /**
   * Most write request units per second the table may consume.
   * @default - no ceiling
   */
  readonly maxWriteRequestUnits?: number;
}

/**
 * DynamoDB table properties a service may set over the {@link ServiceTable} defaults (its key schema comes from
 * the service's `partitionKey` and `sortKey`). Encryption with the service's customer-managed key, point-in-time
 * recovery, deletion protection and retention of a retained table, and the stream and TTL of a publishing
 * service cannot be switched off: an override that tries fails synth naming the prop.
 */
export type ServiceTableOverrides = Partial<Omit<dynamodb.TableProps, 'partitionKey' | 'sortKey'>>;

/** Properties of {@link ServiceTable}. */
export interface ServiceTableProps {
  /** Partition key. */
  readonly partitionKey: dynamodb.Attribute;
  /**
   * Sort key.
   * @default - no sort key
   */
  readonly sortKey?: dynamodb.Attribute;
  /** Customer-managed key encrypting the table. */
  readonly encryptionKey: kms.IKey;
  /**
   * Whether the service publishes events through a transactional outbox: turns on the stream (new images)
   * and the outbox's expiry attribute as the table's TTL.
   * @default false
   */
  readonly outbox?: boolean;
  /**
   * Attribute holding each item's expiry time (epoch seconds).
   * @default - items do not expire (outbox items do, when `outbox` is set)
   */
  readonly timeToLiveAttribute?: string;
  /**
   * Whether the table outlives the stack (RETAIN also turns on deletion protection).
   * @default DataProtection.RETAIN
   */
  readonly dataProtection?: DataProtection;
  /**
   * Warm throughput and ceilings of the on-demand table.
   * @default - on-demand with no warm throughput and no ceilings
   */
  readonly throughput?: TableThroughput;
  /**
   * DynamoDB properties merged over these defaults, with the must-haves applied last.
   * @default - none
   */
  readonly tableProps?: ServiceTableOverrides;
}

/** DynamoDB actions per access mode: items and queries only, never Scan, table management or streams. */
const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/**
 * Least-privilege grants on a service's table (its own {@link ServiceTable} or an existing one): items and
 * queries of the table and its indexes, never `Scan`, table management or streams, plus the matching use of its
 * KMS key. A {@link ServiceFunction} grantee also declares the calls it may make, for `cdk-microservices check`.
 */
export class ServiceTableGrants {
  constructor(
    private readonly table: dynamodb.ITable,
    /** Names of the table's global secondary indexes, read when a grant is made. */
    private readonly indexNames: () => readonly string[],
  ) {}

  /** `GetItem`, `BatchGetItem`, `Query`, `ConditionCheckItem` on the table and its indexes; `kms:Decrypt`. */
  public readData(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, true, false);
  }

  /** `PutItem`, `UpdateItem`, `DeleteItem`, `BatchWriteItem` on the table; encrypt with its key. */
  public writeData(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, false, true);
  }

  /** {@link readData} and {@link writeData} together. */
  public readWriteData(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, true, true);
  }

  /** The grant an {@link AccessMode} stands for (`NONE` grants nothing and returns a dropped grant). */
  public access(grantee: iam.IGrantable, mode: AccessMode): iam.Grant {
    switch (mode) {
      case AccessMode.READ:
        return this.readData(grantee);
      case AccessMode.READ_WRITE:
        return this.readWriteData(grantee);
      default:
        return this.nothing(grantee);
    }
  }

  private nothing(grantee: iam.IGrantable): iam.Grant {
    // A grant that adds nothing, so every grant method returns an iam.Grant.
    return iam.Grant.drop(grantee, `no access to ${this.table.node.path}`);
  }

  private grant(grantee: iam.IGrantable, read: boolean, write: boolean): iam.Grant {
    const { table } = this;
    const indexNames = this.indexNames();
    // table.grant covers the table and, when it has indexes, table-arn/index/*.
    let grant = table.grant(grantee, ...(read ? READ_ACTIONS : []), ...(write ? WRITE_ACTIONS : []));
    if (grantee instanceof ServiceFunction) {
      const declared = [
        ...(read ? ['dynamodb:GetItem', 'dynamodb:Query'] : []),
        ...(write ? ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] : []),
        ...(read && write ? ['dynamodb:ConditionCheckItem'] : []),
      ];
      grantee.declareAccess(declared, [table.tableArn]);
      if (read && indexNames.length > 0) {
        grantee.declareAccess(
          ['dynamodb:Query'],
          indexNames.map((name) => `${table.tableArn}/index/${name}`),
        );
      }
    }
    const key = table.encryptionKey;
    if (key) {
      grant = grant.combine(
        read && write
          ? key.grantEncryptDecrypt(grantee)
          : write
            ? key.grantEncrypt(grantee)
            : key.grantDecrypt(grantee),
      );
    }
    const principal = grantee.grantPrincipal as unknown as IConstruct;
    if (!Construct.isConstruct(principal)) return grant;
    if (write && key) {
      const reason =
        'Writes to the table encrypted with the service key: kms:GenerateDataKey* and kms:ReEncrypt* are the action families DynamoDB needs, on that one key only.';
      Validations.of(principal).acknowledge(
        { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason },
        { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason },
      );
    }
    if (read && indexNames.length > 0) {
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(table, table.tableArn)}/index/*]`,
        reason: "Query access to the service table's own global secondary indexes (table-arn/index/*).",
      });
    }
    return grant;
  }
}

/**
 * A service's own DynamoDB table: on-demand, point-in-time recovery, encrypted with a customer-managed key,
 * deletion protection and `RETAIN` unless {@link DataProtection.DESTROY}, and for a publishing service the
 * stream and TTL its {@link TransactionalOutbox} needs. `tableProps` may change anything else.
 *
 * Its `grantReadData`, `grantWriteData` and `grantReadWriteData` are narrowed to items and queries (see
 * {@link ServiceTableGrants}): no `Scan`, no table management, no streams.
 */
export class ServiceTable extends dynamodb.Table {
  /** The least-privilege grants on this table. */
  public readonly serviceGrants: ServiceTableGrants;
  private readonly indexNames: string[] = [];

  constructor(scope: Construct, id: string, props: ServiceTableProps) {
    super(scope, id, consolidate(props));
    this.serviceGrants = new ServiceTableGrants(this, () => this.indexNames);
  }

  public override addGlobalSecondaryIndex(props: dynamodb.GlobalSecondaryIndexProps): void {
    super.addGlobalSecondaryIndex(props);
    this.indexNames.push(props.indexName);
  }

  /** Items and queries, never `Scan` (see {@link ServiceTableGrants.readData}). */
  public override grantReadData(grantee: iam.IGrantable): iam.Grant {
    return this.serviceGrants.readData(grantee);
  }

  /** Item writes (see {@link ServiceTableGrants.writeData}). */
  public override grantWriteData(grantee: iam.IGrantable): iam.Grant {
    return this.serviceGrants.writeData(grantee);
  }

  /** Item reads, queries and writes (see {@link ServiceTableGrants.readWriteData}). */
  public override grantReadWriteData(grantee: iam.IGrantable): iam.Grant {
    return this.serviceGrants.readWriteData(grantee);
  }
}

/** The table's properties: defaults, then the typed props, then `tableProps`, then the must-haves. */
function consolidate(props: ServiceTableProps): dynamodb.TableProps {
  const construct = 'Microservice';
  const overrides = props.tableProps ?? {};
  const dataProtection = props.dataProtection ?? DataProtection.RETAIN;
  const retained = dataProtection === DataProtection.RETAIN;
  const throughput = props.throughput;
  requireNoConflict(
    construct,
    'timeToLiveAttribute',
    props.timeToLiveAttribute,
    'tableProps.timeToLiveAttribute',
    overrides.timeToLiveAttribute,
  );
  requireNoConflict(
    construct,
    'tableThroughput.maxReadRequestUnits',
    throughput?.maxReadRequestUnits,
    'tableProps.maxReadRequestUnits',
    overrides.maxReadRequestUnits,
  );
  requireNoConflict(
    construct,
    'tableThroughput.maxWriteRequestUnits',
    throughput?.maxWriteRequestUnits,
    'tableProps.maxWriteRequestUnits',
    overrides.maxWriteRequestUnits,
  );
  const warmThroughput = warmThroughputOf(throughput);
  requireNoConflict(
    construct,
    'tableThroughput',
    warmThroughput,
    'tableProps.warmThroughput',
    overrides.warmThroughput,
  );
  if (props.outbox && props.timeToLiveAttribute && props.timeToLiveAttribute !== OutboxAttribute.EXPIRES_AT) {
    fail(
      construct,
      'timeToLiveAttribute',
      props.timeToLiveAttribute,
      `publishing services expire outbox items with "${OutboxAttribute.EXPIRES_AT}"`,
    );
  }
  if (overrides.pointInTimeRecovery === false) {
    fail(
      construct,
      'tableProps.pointInTimeRecovery',
      false,
      'point-in-time recovery is always on for a service table',
    );
  }
  const base: dynamodb.TableProps = {
    partitionKey: props.partitionKey,
    sortKey: props.sortKey,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    maxReadRequestUnits: throughput?.maxReadRequestUnits,
    maxWriteRequestUnits: throughput?.maxWriteRequestUnits,
    warmThroughput,
    timeToLiveAttribute: props.timeToLiveAttribute,
    removalPolicy: removalPolicyFor(dataProtection),
    deletionProtection: retained,
  };
  const mustHavePitr = (spec: dynamodb.PointInTimeRecoverySpecification | undefined) =>
    spec?.pointInTimeRecoveryEnabled === true;
  return mergeOverrides<dynamodb.TableProps>(construct, 'tableProps', base, overrides, {
    encryption: {
      value: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      why: "a service table is encrypted with a customer-managed key (set the service's tableEncryptionKey to bring your own)",
    },
    encryptionKey: {
      value: props.encryptionKey,
      why: "set the service's tableEncryptionKey instead, so its queues and outbox use the same key",
    },
    pointInTimeRecoverySpecification: {
      value: { pointInTimeRecoveryEnabled: true },
      accepts: mustHavePitr,
      why: 'point-in-time recovery is always on for a service table (recoveryPeriodInDays may be set)',
    },
    ...(retained
      ? {
          deletionProtection: {
            value: true,
            why: 'the service retains its data (dataProtection RETAIN); use DataProtection.DESTROY for a disposable table',
          },
          removalPolicy: {
            value: RemovalPolicy.RETAIN,
            accepts: (policy?: RemovalPolicy) => policy === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            why: 'the service retains its data (dataProtection RETAIN); use DataProtection.DESTROY for a disposable table',
          },
        }
      : {}),
    ...(props.outbox
      ? {
          stream: {
            value: dynamodb.StreamViewType.NEW_IMAGE,
            accepts: (view?: dynamodb.StreamViewType) => view === dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            why: 'the transactional outbox reads new images from the stream (NEW_IMAGE or NEW_AND_OLD_IMAGES)',
          },
          timeToLiveAttribute: {
            value: OutboxAttribute.EXPIRES_AT,
            why: `publishing services expire outbox items with "${OutboxAttribute.EXPIRES_AT}"`,
          },
        }
      : {}),
  });
}

/** DynamoDB's warm-throughput setting, after checking every figure is a whole number of units. */
function warmThroughputOf(throughput: TableThroughput | undefined): dynamodb.WarmThroughput | undefined {
  if (!throughput) return undefined;
  for (const key of [
    'warmReadUnitsPerSecond',
    'warmWriteUnitsPerSecond',
    'maxReadRequestUnits',
    'maxWriteRequestUnits',
  ] as const) {
    requireIntegerInRange('Microservice', `tableThroughput.${key}`, throughput[key], 1, 40_000_000);
  }
  const { warmReadUnitsPerSecond: read, warmWriteUnitsPerSecond: write } = throughput;
  if (read === undefined && write === undefined) return undefined;
  return { readUnitsPerSecond: read, writeUnitsPerSecond: write };
}

/** What of a {@link MicroserviceProps} decides its data (see {@link serviceData}). */
export type ServiceDataProps = Pick<
  MicroserviceProps,
  | 'serviceName'
  | 'platform'
  | 'partitionKey'
  | 'sortKey'
  | 'table'
  | 'tableEncryptionKey'
  | 'tableProps'
  | 'globalSecondaryIndexes'
  | 'timeToLiveAttribute'
  | 'tableThroughput'
  | 'dataProtection'
>;

/**
 * A service's data, created in `scope` (construct ids `TableKey` and `Table`, which are contract): the key
 * (`tableEncryptionKey`, else the existing table's, else a new rotating key) and the table (`table`, else a new
 * {@link ServiceTable}, with its indexes), with the grants on it. An existing table cannot be combined with the
 * props that configure a new one.
 */
export function serviceData(
  scope: Construct,
  props: ServiceDataProps,
  outbox: boolean,
): { key: kms.IKey; table: dynamodb.ITable; grants: ServiceTableGrants } {
  const { platform } = props;
  const dataProtection = props.dataProtection ?? DataProtection.RETAIN;
  const key =
    props.tableEncryptionKey ??
    props.table?.encryptionKey ??
    new kms.Key(scope, 'TableKey', {
      description: `${platform.appName} ${platform.envName} ${props.serviceName} table key`,
      enableKeyRotation: true,
      removalPolicy: removalPolicyFor(dataProtection),
    });
  if (props.table) {
    for (const prop of [
      'globalSecondaryIndexes',
      'timeToLiveAttribute',
      'tableThroughput',
      'tableProps',
    ] as const) {
      if (props[prop] === undefined) continue;
      fail(
        'Microservice',
        prop,
        props[prop],
        'configures a table the service creates; it cannot be combined with an existing table (table)',
      );
    }
    return { key, table: props.table, grants: new ServiceTableGrants(props.table, () => []) };
  }
  const table = new ServiceTable(scope, 'Table', {
    partitionKey: props.partitionKey,
    sortKey: props.sortKey,
    encryptionKey: key,
    outbox,
    timeToLiveAttribute: props.timeToLiveAttribute,
    dataProtection,
    throughput: props.tableThroughput,
    tableProps: props.tableProps,
  });
  for (const index of props.globalSecondaryIndexes ?? []) table.addGlobalSecondaryIndex(index);
  return { key, table, grants: table.serviceGrants };
}
