import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The SES events the configuration set publishes (issue 17): everything about delivery. */
export const FEEDBACK_EVENTS = [
  ses.EmailSendingEvent.SEND,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.DELIVERY_DELAY,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.RENDERING_FAILURE,
];

/** EventBridge's `detail-type` for each of them (the rule matches exactly these). */
export const FEEDBACK_DETAIL_TYPES = [
  'Email Sent', 'Email Delivered', 'Email Bounced', 'Email Complaint Received',
  'Email Delivery Delayed', 'Email Rejected', 'Email Rendering Failed',
];

/** Half of the rates at which SES puts an account under review (5 % bounces, 0.1 % complaints). */
export const BOUNCE_RATE_ALARM_PERCENT = 2;
export const COMPLAINT_RATE_ALARM_PERCENT = 0.05;

export interface DeliveryFeedbackProps {
  readonly configurationSet: ses.IConfigurationSet;
  readonly table: dynamodb.ITable;
  /** The `mail-feedback` function (its environment names the table and the user pool). */
  readonly handler: lambda.Function;
  readonly alarmTopic: sns.ITopic;
  readonly metricsNamespace: string;
}

/**
 * SES's events about each email → the default EventBridge bus (the configuration set's event
 * destination) → a rule → the feedback queue (+ its dead-letter queue) → `mail-feedback`, which
 * writes the emails' delivery status and the mailboxes' suppression to the auth-state table
 * (GetItem/PutItem only). Alarms on the day's bounce and complaint rates and on the dead letters.
 */
export class DeliveryFeedback extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: DeliveryFeedbackProps) {
    super(scope, id);
    this.namespace = props.metricsNamespace;
    this.deadLetterQueue = new sqs.Queue(this, 'FeedbackDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the feedback queue; what lands here waits for an operator (alarmed).',
    });
    this.queue = new sqs.Queue(this, 'FeedbackQueue', {
      // SSE-SQS: EventBridge can deliver to it without a key policy (a KMS key would need one).
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(props.handler.timeout!.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    new ses.ConfigurationSetEventDestination(this, 'ToEventBridge', {
      configurationSet: props.configurationSet,
      destination: ses.EventDestination.eventBus(events.EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: FEEDBACK_EVENTS,
    });
    new events.Rule(this, 'SesEventsRule', {
      description: 'SES delivery events of the passwordless configuration set, to the feedback queue',
      eventPattern: {
        source: ['aws.ses'],
        detailType: FEEDBACK_DETAIL_TYPES,
        detail: { mail: { tags: { 'ses:configuration-set': [props.configurationSet.configurationSetName] } } },
      },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 8 })],
    });

    props.handler.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    props.table.grant(props.handler, 'dynamodb:GetItem', 'dynamodb:PutItem');

    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold: number,
      comparison = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description, metric, threshold, comparisonOperator: comparison,
        evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      this.alarms.push(a);
      return a;
    };
    alarm('BounceRateAlarm',
      `Over the last 24 hours more than ${BOUNCE_RATE_ALARM_PERCENT} % of the emails SES accepted bounced for good: SES reviews `
      + 'accounts at 5 % and then pauses sending for every user (check mail-jobs suppression list).',
      this.rate('SesBounces'), BOUNCE_RATE_ALARM_PERCENT, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    alarm('ComplaintRateAlarm',
      `Over the last 24 hours more than ${COMPLAINT_RATE_ALARM_PERCENT} % of the emails were reported as spam: SES reviews `
      + 'accounts at 0.1 %.',
      this.rate('SesComplaints'), COMPLAINT_RATE_ALARM_PERCENT, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    alarm('FeedbackDeadLetterAlarm',
      'SES events are in the feedback dead-letter queue: bounces or complaints were not applied (docs/delivery-feedback.md).',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 1);
  }

  private metric(name: string, period = Duration.minutes(5)): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.namespace, metricName: name, statistic: 'Sum', period });
  }

  /** 100 × events / sends over the last 24 hours (0 when nothing was sent). */
  rate(events: string): cloudwatch.MathExpression {
    const id = events.toLowerCase();
    return new cloudwatch.MathExpression({
      expression: `IF(sends > 0, 100 * ${id} / sends, 0)`,
      usingMetrics: { [id]: this.metric(events, Duration.days(1)), sends: this.metric('SesSends', Duration.days(1)) },
      period: Duration.days(1),
      label: `${events} per 100 sends (24 h)`,
    });
  }

  /** The dashboard row: SES's events, the two rates, the feedback queues. */
  widgets(): cloudwatch.IWidget[] {
    const names = ['SesSends', 'SesDeliveries', 'SesBounces', 'SesTransientBounces', 'SesComplaints', 'SesDeliveryDelays',
      'SesRejects', 'EmailsSuppressed'];
    return [
      new cloudwatch.GraphWidget({ title: 'SES events', left: names.map((n) => this.metric(n)), width: 8, height: 6 }),
      new cloudwatch.GraphWidget({
        title: 'Bounce and complaint rates (%, 24 h)', left: [this.rate('SesBounces'), this.rate('SesComplaints')],
        leftAnnotations: [
          { value: BOUNCE_RATE_ALARM_PERCENT, label: 'bounce alarm' },
          { value: COMPLAINT_RATE_ALARM_PERCENT, label: 'complaint alarm' },
        ],
        width: 8, height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Feedback queue',
        left: [this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
          this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) })],
        width: 8, height: 6,
      }),
    ];
  }
}
