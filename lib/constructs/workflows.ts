import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Names } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  GATE_STEP_FUNCTION_ARN_SUBSTITUTION,
  PHASE_GATE_DEFINITION_FILE,
  STATE_MACHINES_DIR,
} from '../../functions/adapters/stepfunctions/definitions.js';
import { GATE_STATE_MACHINE_ARN_ENV } from '../../functions/handlers/env-names.js';
import { AppFunction } from './app-function.js';
import { acceptInvokeGrant } from './nag-suppressions.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** The ASL file of the phase-gate state machine, the same one `convoy dev` runs. */
export const PHASE_GATE_DEFINITION_PATH = join(REPO_ROOT, STATE_MACHINES_DIR, PHASE_GATE_DEFINITION_FILE);

/**
 * What a function may do with the phase-gate workflow: start executions (`start`: the API's evaluate route,
 * the gate-review schedule, whoever marks a phase's last task done), complete decisions (`decide`: the
 * decision route, the Slack buttons), or both.
 */
export type GateWorkflowAccess = 'start' | 'decide' | 'start-and-decide';

// The Task states of phase-gate.asl.json time out after 60 s; a step must end well before that.
const GATE_STEP_TIMEOUT = Duration.seconds(30);

/** Properties of {@link ConvoyWorkflows}. */
export interface ConvoyWorkflowsProps {
  /** The coordination state table as seen from this region; the gate step reads and writes it. */
  readonly table: ITableV2;

  /**
   * How long the state machine's execution logs are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * Convoy's Step Functions workflows in one region, today the phase gate:
 *
 * - the `gate-step` function (functions/handlers/gate-step.ts), which every Task state invokes;
 * - the phase-gate state machine (STANDARD), defined by `statemachines/phase-gate.asl.json` through
 *   `DefinitionBody.fromFile` with `${GateStepFunctionArn}` substituted, allowed to invoke that function
 *   only, logging every event with its data to CloudWatch Logs and traced with X-Ray.
 *
 * The log group's name starts with `/aws/vendedlogs/states/`, as AWS advises, so that accounts with many
 * logging state machines stay under CloudWatch Logs' resource policy size limit. Like every CDK log group it
 * is retained when it leaves the stack; since it is named, recreating a deleted stack needs it deleted first.
 *
 * Give other functions access with {@link bindGateWorkflow}.
 */
export class ConvoyWorkflows extends Construct {
  /** Runs the steps of the phase-gate workflow. */
  readonly gateStep: AppFunction;

  /** The phase-gate state machine. */
  readonly phaseGate: StateMachine;

  /** Where the phase-gate state machine logs its executions. */
  readonly phaseGateLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ConvoyWorkflowsProps) {
    super(scope, id);

    this.gateStep = new AppFunction(this, 'GateStepFunction', {
      entryName: 'gate-step',
      description:
        'Runs the steps of the phase-gate workflow: evaluate, caution, request a decision, advance, hold',
      timeout: GATE_STEP_TIMEOUT,
    });
    this.gateStep.bindTable(props.table, 'readwrite');

    this.phaseGateLogGroup = new LogGroup(this, 'PhaseGateLogGroup', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}-phase-gate`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });

    this.phaseGate = new StateMachine(this, 'PhaseGate', {
      comment: 'Convoy phase gate: GO, CAUTION (notify, wait, re-evaluate) or NO-GO (approvers decide)',
      definitionBody: DefinitionBody.fromFile(PHASE_GATE_DEFINITION_PATH),
      definitionSubstitutions: { [GATE_STEP_FUNCTION_ARN_SUBSTITUTION]: this.gateStep.functionArn },
      stateMachineType: StateMachineType.STANDARD,
      logs: { destination: this.phaseGateLogGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // The definition comes from a file, so CDK cannot derive the role's permissions from its states.
    this.gateStep.grantInvoke(this.phaseGate);
    acceptInvokeGrant(this.phaseGate.role, this.gateStep, 'The phase-gate state machine');
    NagSuppressions.addResourceSuppressions(
      this.phaseGate.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Resource "*" only where the services require it: the log delivery actions Step Functions needs to ' +
            'log to CloudWatch Logs (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, ' +
            'DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, ' +
            'DescribeLogGroups) and the X-Ray tracing actions (xray:PutTraceSegments, PutTelemetryRecords, ' +
            'GetSamplingRules, GetSamplingTargets) support no resource-level permissions',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }

  /**
   * Lets `fn` start phase-gate executions and/or complete their decisions (`states:SendTaskSuccess`,
   * `SendTaskFailure`, `SendTaskHeartbeat`), on this state machine only, and passes its ARN in
   * `CONVOY_GATE_STATE_MACHINE_ARN`.
   */
  bindGateWorkflow(fn: AppFunction, access: GateWorkflowAccess): void {
    if (access !== 'decide') this.phaseGate.grantStartExecution(fn);
    if (access !== 'start') this.phaseGate.grantTaskResponse(fn);
    fn.addEnvironment(GATE_STATE_MACHINE_ARN_ENV, this.phaseGate.stateMachineArn);
  }
}
