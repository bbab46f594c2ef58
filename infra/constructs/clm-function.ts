/**
 * One Lambda function of the stack with the defaults every function shares:
 * Node.js 24 on arm64, its own least-privilege role, an explicitly created log
 * group with retention, X-Ray tracing, Powertools settings and an esbuild ESM
 * bundle built locally (no Docker). Like Powertools' `FunctionWithLogGroup`.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName, FunctionSpec } from '../../shared/wiring.ts';

/** Repository root: entries in shared/wiring.ts are relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const POWERTOOLS_METRICS_NAMESPACE = 'ServerlessClm';

/** Lets ESM bundles load CommonJS dependencies that call `require`. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __clmCreateRequire } from 'node:module'; const require = __clmCreateRequire(import.meta.url);";

export type ClmFunctionProps = {
  name: FunctionName;
  spec: FunctionSpec;
  /** Environment variables on top of the Powertools ones. */
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  logLevel: string;
  removalPolicy: RemovalPolicy;
  /** Repository directories copied beside the bundle (e.g. `templates` for a function that sends email). */
  bundledDirs?: string[];
  /** Files copied beside the bundle: an absolute path and the name beside it (e.g. the trigger configuration of CLM_TRIGGERS_FILE). */
  bundledFiles?: { from: string; name: string }[];
};

export class ClmFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ClmFunctionProps) {
    super(scope, id);
    const { name, spec } = props;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    // One role per function, no managed policies: logging to its own log
    // group is granted below, everything else by the stack from `access`.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Role of the ${name} function (least privilege, from shared/wiring.ts)`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, spec.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        // Stack traces point into the TypeScript sources (bundles ship a source map).
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        // The AWS SDK v3 is part of the nodejs24.x runtime.
        externalModules: ['@aws-sdk/*'],
        tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
        ...(props.bundledDirs?.length || props.bundledFiles?.length
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => [
                  ...(props.bundledDirs ?? []).map((d) => `cp -R "${path.join(inputDir, d)}" "${path.join(outputDir, d)}"`),
                  ...(props.bundledFiles ?? []).map((f) => `cp "${f.from}" "${path.join(outputDir, f.name)}"`),
                ],
              },
            }
          : {}),
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and dynamodb:ListStreams do not support resource-level permissions; every other statement of this role is scoped to resource ARNs.',
    });
  }
}

